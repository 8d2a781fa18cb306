/**
 * The CLI's dataset commands: `add-inputs` (PostDatasetInputs for inputs already uploaded) and
 * `status` (input counts, processing state, dataset size).
 *
 * @module
 */
import { classifyStatus, statusCodeName } from "../clarifai/status_codes.ts";
import { FatalUploadError } from "../clarifai/errors.ts";
import { openTarget, type TargetOptions } from "../upload/target.ts";
import { localTarget } from "../../server/local_target.ts";
import { addInputsToDataset } from "../upload/add_inputs_to_dataset.ts";
import { type LatestDatasetVersion, latestDatasetVersion } from "../upload/dataset_version.ts";
import { renderVersionMetrics } from "./report_run.ts";
import { loadCredentials } from "./clarifai_config.ts";
import { type JournalCounts, journalCounts } from "../journal/journal_counts.ts";
import { ExitCode, parseCommandArgs, UsageError } from "./upload_command.ts";

const TARGET_OPTIONS = {
  base: { type: "string" },
  user: { type: "string" },
  app: { type: "string" },
  transport: { type: "string" },
  "local-data": { type: "string" },
  context: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** Help of the `add-inputs` command. */
export const ADD_INPUTS_HELP =
  `upflow add-inputs --dataset ID (--ids A,B,… | --ids-file FILE) [options]

Adds inputs that are already uploaded to a dataset (PostDatasetInputs), 128 per request.
--ids-file reads one input ID per line.

  --dataset ID           the dataset
  --ids A,B,…            input IDs, comma-separated
  --ids-file FILE        input IDs, one per line
  --base, --user, --app, --transport, --local-data, --context   the target, as for uploads
  --json                 print the result as JSON`;

/** Help of the `status` command. */
export const STATUS_HELP = `upflow status [--dataset ID] [--journal FILE]… [options]

Prints the app's input counts (processed, to process, errors, processing) and, with --dataset,
how many inputs the dataset holds and its latest version with its metrics (inputs by kind,
annotations, concepts), as --create-version makes them. With --journal, also what the journals
record, summed: the shards of one upload
(--journal '.upflow/journals/csv-urls_csv-*-shard*of4.ndjson'), read from their indexes, never
whole into memory.

  --dataset ID           also count this dataset's inputs and show its latest version
  --journal FILE         a journal, or a pattern of journals' file names (repeatable)
  --offline              only the journals: do not ask the server
  --base, --user, --app, --transport, --local-data, --context   the target, as for uploads
  --json                 print the result as JSON`;

async function targetOptions(
  values: Record<string, string | string[] | boolean | undefined>,
): Promise<TargetOptions> {
  const transport = values.transport as string | undefined;
  if (transport !== undefined && transport !== "grpc" && transport !== "grpc-web") {
    throw new UsageError(`--transport must be grpc or grpc-web: got "${transport}"`);
  }
  return {
    base: values.base as string | undefined,
    userId: values.user as string | undefined,
    appId: values.app as string | undefined,
    transport: transport as "grpc" | "grpc-web" | undefined,
    local: localTarget({ dataDir: values["local-data"] as string | undefined }),
    env: (await loadCredentials(
      {
        base: values.base as string | undefined,
        userId: values.user as string | undefined,
        appId: values.app as string | undefined,
      },
      values.context as string | undefined,
    )).env,
  };
}

/**
 * Runs `upflow add-inputs`.
 *
 * @param args The arguments after the command.
 * @returns The exit code.
 */
export async function addInputsCommand(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, {
    ...TARGET_OPTIONS,
    dataset: { type: "string" },
    ids: { type: "string" },
    "ids-file": { type: "string" },
  }, false);
  if (values.help) {
    console.log(ADD_INPUTS_HELP);
    return ExitCode.Ok;
  }
  if (!values.dataset) throw new UsageError("add-inputs needs --dataset ID");
  let ids: string[] = [];
  if (values.ids) ids = values.ids.split(",").map((s) => s.trim()).filter(Boolean);
  if (values["ids-file"]) {
    const text = await Deno.readTextFile(values["ids-file"]);
    ids.push(...text.split(/\r?\n/).map((s) => s.trim()).filter(Boolean));
  }
  if (ids.length === 0) throw new UsageError("add-inputs needs --ids or --ids-file");
  const target = await openTarget(await targetOptions(values));
  try {
    const result = await addInputsToDataset(target.client, values.dataset, ids);
    if (values.json) console.log(JSON.stringify(result));
    else {
      console.log(`added ${result.added} of ${ids.length} inputs to dataset ${values.dataset}`);
      for (const f of result.failed) console.log(`  not added ${f.id}: ${f.reason}`);
    }
    return result.failed.length ? ExitCode.SomeFailed : ExitCode.Ok;
  } catch (err) {
    if (err instanceof FatalUploadError) {
      console.error(err.message);
      return ExitCode.Fatal;
    }
    throw err;
  } finally {
    await target.close();
  }
}

/**
 * Runs `upflow status`.
 *
 * @param args The arguments after the command.
 * @returns The exit code.
 */
export async function statusCommand(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(
    args,
    {
      ...TARGET_OPTIONS,
      dataset: { type: "string" },
      journal: { type: "string", multiple: true },
      offline: { type: "boolean" },
    },
    false,
  );
  if (values.help) {
    console.log(STATUS_HELP);
    return ExitCode.Ok;
  }
  if (values.offline && !values.journal) throw new UsageError("--offline needs --journal FILE");
  const journals = values.journal ? await journalCounts(values.journal) : undefined;
  if (journals) printJournals(journals, values.json === true && values.offline === true);
  if (values.offline) return ExitCode.Ok;
  const target = await openTarget(await targetOptions(values));
  try {
    const { client } = target;
    const count = await client.getInputCount({ userAppId: client.userAppId });
    if (classifyStatus(count.status) === "fatal") throw FatalUploadError.fromStatus(count.status!);
    const counts = count.counts;
    const result: Record<string, unknown> = {
      target: target.description,
      processed: counts?.processed ?? 0,
      toProcess: counts?.toProcess ?? 0,
      processing: counts?.processing ?? 0,
      errors: counts?.errors ?? 0,
    };
    if (values.dataset) {
      let inputs = 0;
      for (let page = 1;; page++) {
        const listed = await client.listDatasetInputs({
          userAppId: client.userAppId,
          datasetId: values.dataset,
          page,
          perPage: 1000,
        });
        if (classifyStatus(listed.status) !== "success") {
          throw new FatalUploadError(
            `Could not list dataset "${values.dataset}": ${
              statusCodeName(listed.status?.code ?? 0)
            } ${listed.status?.description ?? ""}`.trim(),
            { statusCode: listed.status?.code },
          );
        }
        inputs += listed.datasetInputs.length;
        if (listed.datasetInputs.length < 1000) break;
      }
      const latest = await latestDatasetVersion(client, client.userAppId, values.dataset)
        .catch((err) => {
          throw new FatalUploadError((err as Error).message);
        });
      result.dataset = { id: values.dataset, inputs, ...(latest ? { latestVersion: latest } : {}) };
    }
    if (journals) result.journal = journals;
    if (values.json) console.log(JSON.stringify(result));
    else {
      console.log(`target      ${result.target}`);
      console.log(`processed   ${result.processed}`);
      console.log(`to process  ${result.toProcess}`);
      console.log(`processing  ${result.processing}`);
      console.log(`errors      ${result.errors}`);
      if (values.dataset) {
        console.log(`dataset     ${values.dataset}: ${inputsOf(result)} inputs`);
        printLatestVersion(result);
      }
    }
    return ExitCode.Ok;
  } catch (err) {
    if (err instanceof FatalUploadError) {
      console.error(err.message);
      return ExitCode.Fatal;
    }
    throw err;
  } finally {
    await target.close();
  }
}

function printJournals(counts: JournalCounts, json: boolean): void {
  if (json) return console.log(JSON.stringify({ journal: counts }));
  const n = (x: number) => x.toLocaleString("en-US");
  console.log(`journals    ${counts.journals.length}: ${counts.journals.join(", ")}`);
  console.log(`  uploaded  ${n(counts.uploaded)} (including inputs found on the server)`);
  console.log(`  failed    ${n(counts.failed)} (failures and rejections not uploaded since)`);
  console.log(`  runs      ${n(counts.runs)}`);
  if (counts.unindexedBytes > 0) {
    console.log(
      `  (${n(counts.unindexedBytes)} journal bytes not indexed yet: a run is writing them, ` +
        "or the next run over the journal indexes them)",
    );
  }
}

function inputsOf(result: Record<string, unknown>): number {
  return (result.dataset as { inputs: number }).inputs;
}

/** The dataset's latest version, and its metrics when it is ready. */
function printLatestVersion(result: Record<string, unknown>): void {
  const latest = (result.dataset as { latestVersion?: LatestDatasetVersion }).latestVersion;
  if (!latest) {
    console.log("version     none (--create-version on an upload makes one)");
    return;
  }
  const when = latest.createdAt ? `, made ${latest.createdAt}` : "";
  console.log(`version     ${latest.id} (${latest.status}${when})`);
  if (latest.metrics) console.log(renderVersionMetrics(latest.metrics).trimEnd());
}
