/**
 * {@linkcode sniffKind}: the input kind of content from its first bytes, for objects whose key
 * has no extension.
 *
 * @module
 */
import type { InputKind } from "../../inputs/input_draft.ts";

/** How many leading bytes {@linkcode sniffKind} looks at. */
export const SNIFF_BYTES = 16;

function ascii(bytes: Uint8Array, at: number, text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (bytes[at + i] !== text.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Tells the kind of content by its signature: JPEG, PNG, GIF, WebP, BMP and TIFF images; MP4,
 * QuickTime, 3GP (`ftyp` boxes), AVI and ASF/WMV videos; WAV audio. Text is not sniffed (any
 * bytes may be text): give text objects a `.txt` extension.
 *
 * @param bytes The first bytes of the content (at least {@linkcode SNIFF_BYTES} when there are).
 * @returns The kind, or `undefined` when no signature matches.
 *
 * @example Usage
 * ```ts
 * import { sniffKind } from "./sniff_kind.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(sniffKind(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), "image");
 * assertEquals(sniffKind(new TextEncoder().encode("hello")), undefined);
 * ```
 */
export function sniffKind(bytes: Uint8Array): InputKind | undefined {
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "image";
  if (ascii(bytes, 0, "\x89PNG\r\n\x1a\n")) return "image";
  if (ascii(bytes, 0, "GIF87a") || ascii(bytes, 0, "GIF89a")) return "image";
  if (ascii(bytes, 0, "BM")) return "image";
  if (ascii(bytes, 0, "II*\0") || ascii(bytes, 0, "MM\0*")) return "image";
  if (ascii(bytes, 0, "RIFF")) {
    if (ascii(bytes, 8, "WEBP")) return "image";
    if (ascii(bytes, 8, "WAVE")) return "audio";
    if (ascii(bytes, 8, "AVI ")) return "video";
  }
  if (ascii(bytes, 4, "ftyp")) return "video";
  if (bytes[0] === 0x30 && bytes[1] === 0x26 && bytes[2] === 0xb2 && bytes[3] === 0x75) {
    return "video"; // ASF (wmv)
  }
  return undefined;
}
