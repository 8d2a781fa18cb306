/**
 * Content sniffing by magic bytes, the local API's stand-in for Clarifai's decoding step: an
 * input sent as an image must start like a JPEG, PNG, GIF, WEBP, BMP or TIFF file, a video like
 * MP4/MOV, AVI, WMV or 3GPP, an audio input like WAV.
 *
 * @module
 */

/** The kinds of content an input can carry. */
export type ContentKind = "image" | "video" | "audio" | "text";

/** A recognised file format. */
export interface SniffedFormat {
  /** The kind of content the format holds. */
  kind: "image" | "video" | "audio";
  /** The format name (`"jpeg"`, `"mp4"`, …). */
  format: string;
}

function ascii(bytes: Uint8Array, start: number, text: string): boolean {
  if (bytes.length < start + text.length) return false;
  for (let i = 0; i < text.length; i++) {
    if (bytes[start + i] !== text.charCodeAt(i)) return false;
  }
  return true;
}

function prefix(bytes: Uint8Array, magic: number[]): boolean {
  if (bytes.length < magic.length) return false;
  return magic.every((b, i) => bytes[i] === b);
}

const ASF_GUID = [
  0x30,
  0x26,
  0xb2,
  0x75,
  0x8e,
  0x66,
  0xcf,
  0x11,
  0xa6,
  0xd9,
  0x00,
  0xaa,
  0x00,
  0x62,
  0xce,
  0x6c,
];

/**
 * Recognises a file format from its first bytes.
 *
 * @param bytes The content (only the first 16 bytes are read).
 * @returns The format, or `undefined` when it is none of the supported ones.
 *
 * @example Usage
 * ```ts
 * import { sniffFormat } from "./sniff_content.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(sniffFormat(new Uint8Array([0xff, 0xd8, 0xff, 0xe0])), { kind: "image", format: "jpeg" });
 * assertEquals(sniffFormat(new TextEncoder().encode("hello")), undefined);
 * ```
 */
export function sniffFormat(bytes: Uint8Array): SniffedFormat | undefined {
  if (prefix(bytes, [0xff, 0xd8, 0xff])) return { kind: "image", format: "jpeg" };
  if (prefix(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) {
    return { kind: "image", format: "png" };
  }
  if (ascii(bytes, 0, "GIF87a") || ascii(bytes, 0, "GIF89a")) {
    return { kind: "image", format: "gif" };
  }
  if (ascii(bytes, 0, "RIFF")) {
    if (ascii(bytes, 8, "WEBP")) return { kind: "image", format: "webp" };
    if (ascii(bytes, 8, "AVI ")) return { kind: "video", format: "avi" };
    if (ascii(bytes, 8, "WAVE")) return { kind: "audio", format: "wav" };
    return undefined;
  }
  if (ascii(bytes, 0, "BM") && bytes.length >= 14) return { kind: "image", format: "bmp" };
  if (prefix(bytes, [0x49, 0x49, 0x2a, 0x00]) || prefix(bytes, [0x4d, 0x4d, 0x00, 0x2a])) {
    return { kind: "image", format: "tiff" };
  }
  if (ascii(bytes, 4, "ftyp")) {
    if (ascii(bytes, 8, "3g")) return { kind: "video", format: "3gpp" };
    if (ascii(bytes, 8, "qt  ")) return { kind: "video", format: "mov" };
    return { kind: "video", format: "mp4" };
  }
  if (prefix(bytes, ASF_GUID)) return { kind: "video", format: "wmv" };
  return undefined;
}

/**
 * Returns why `bytes` cannot be an input of `kind`, or `undefined` when they can: binary kinds
 * must be a supported format of that kind; text must be valid UTF-8.
 *
 * @param kind The kind the input was sent as.
 * @param bytes The content.
 * @returns A reason, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { contentMismatchReason } from "./sniff_content.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
 * assertEquals(contentMismatchReason("image", png), undefined);
 * assertEquals(
 *   contentMismatchReason("video", png),
 *   "content is a png image, not a video",
 * );
 * ```
 */
export function contentMismatchReason(kind: ContentKind, bytes: Uint8Array): string | undefined {
  if (kind === "text") {
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(bytes);
      return undefined;
    } catch {
      return "text is not valid UTF-8";
    }
  }
  if (bytes.length === 0) return `${kind} content is empty`;
  const sniffed = sniffFormat(bytes);
  if (sniffed === undefined) {
    return `content is not a supported ${kind} format (${SUPPORTED[kind]})`;
  }
  if (sniffed.kind !== kind) {
    return `content is a${
      /^[aeiou]/.test(sniffed.format) ? "n" : ""
    } ${sniffed.format} ${sniffed.kind}, not a${
      kind === "image" || kind === "audio" ? "n" : ""
    } ${kind}`;
  }
  return undefined;
}

const SUPPORTED: Record<ContentKind, string> = {
  image: "JPEG, PNG, GIF, WEBP, BMP, TIFF",
  video: "MP4, MOV, AVI, WMV, 3GPP",
  audio: "WAV",
  text: "UTF-8 text",
};
