/**
 * The upflow command line: `deno task upflow <command> …`.
 *
 * @module
 */
import { addInputsCommand, statusCommand } from "./dataset_commands.ts";
import { cocoCommand, vocCommand, yoloCommand } from "./format_commands.ts";
import { csvCommand, ExitCode, folderCommand, retryCommand, UsageError } from "./upload_command.ts";
import { didYouMean, suggestion } from "./did_you_mean.ts";
import { VERSION } from "../version.ts";
import { JournalInUseError } from "../journal/journal_lock.ts";
import { programName } from "./run_setup.ts";

/** Help of the CLI as a whole. */
export const MAIN_HELP = `upflow: upload folders and CSV files into Clarifai datasets

Usage: deno task upflow <command> [options]
       deno task upflow --version

Commands:
  folder PATH        upload a folder of images, text, video and audio
  csv FILE           upload a CSV (inputid,input,concepts,metadata,geopoints)
  coco FILE          upload a COCO JSON file's images with boxes and polygons
  yolo DIR           upload a YOLO dataset (images/, labels/, data.yaml)
  voc DIR            upload a Pascal VOC dataset (Annotations/, JPEGImages/)
  retry JOURNAL      re-send the inputs that failed in a journal
  add-inputs         add uploaded inputs to a dataset
  status             input counts of the app (and a dataset)
  local              run the local Clarifai-compatible API
  serve              run the upload HTTP service (see server/README.md)

With no CLARIFAI_PAT in the environment, uploads go to the embedded local API
(data in .upflow/local). 'deno task upflow <command> --help' tells more.

Exit codes: 0 all uploaded, 1 some inputs rejected or failed (see the journal),
2 bad usage, 3 fatal (credentials, quota, missing dataset), 130 interrupted.`;

type Command = (args: string[]) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  folder: folderCommand,
  csv: csvCommand,
  coco: cocoCommand,
  yolo: yoloCommand,
  voc: vocCommand,
  retry: retryCommand,
  "add-inputs": addInputsCommand,
  status: statusCommand,
  serve: async (args) => {
    const { runServeCommand } = await import("../../server/main.ts");
    return await runServeCommand(args);
  },
  local: async (args) => {
    const { runLocalCommand } = await import("../../server/local/main.ts");
    return await runLocalCommand(args);
  },
};

/**
 * Runs the CLI with `args` and returns the exit code (it does not exit).
 *
 * @param args The command line after the program name.
 * @returns The exit code.
 *
 * @example Usage
 * ```ts
 * import { main } from "@upflow/upflow/cli";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(await main(["no-such-command"]), 2);
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    // Installed with `deno install`, the command is `upflow`, not `deno task upflow`.
    console.log(MAIN_HELP.replaceAll("deno task upflow", programName()));
    return command === undefined ? ExitCode.Usage : ExitCode.Ok;
  }
  if (command === "--version" || command === "-V" || command === "version") {
    console.log(`upflow ${VERSION}`);
    return ExitCode.Ok;
  }
  const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!run) {
    const what = command.startsWith("-") ? "option" : "command";
    const near = didYouMean(
      command,
      what === "option" ? ["--help", "--version"] : Object.keys(COMMANDS),
    );
    console.error(
      `upflow: unknown ${what} ${command.startsWith("-") ? command : `"${command}"`}` +
        `${suggestion(near)}\nThe commands: ${Object.keys(COMMANDS).join(", ")}. ` +
        `'${programName()} --help' tells more.`,
    );
    return ExitCode.Usage;
  }
  try {
    return await run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`upflow ${command}: ${err.message}\n(see: ${programName()} ${command} --help)`);
      return ExitCode.Usage;
    }
    if (err instanceof JournalInUseError) {
      console.error(`upflow ${command}: ${err.message}`);
      return ExitCode.Fatal;
    }
    throw err;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
