"""The examples of Clarifai's "Upload Data to Dataset via API" page, run with the official Python
SDK against the server named by CLARIFAI_API_BASE (the upflow local API in the tests).

    python upload_page_examples.py SCENARIO WORKDIR

Each scenario writes its files under WORKDIR, uploads them the way the page does, and prints one
JSON line on stdout: what it sent (input IDs, labels, metadata, geo points, boxes, polygons), so
the caller can compare it with what the server holds. The SDK's own logs go to stderr.
"""

import csv
import json
import os
import sys
import uuid

from clarifai.client.app import App
from clarifai.client.dataset import Dataset
from clarifai.client.input import Inputs
from clarifai.datasets.upload.base import ClarifaiDataLoader
from clarifai.datasets.upload.features import VisualClassificationFeatures
from clarifai_grpc.grpc.api import resources_pb2
from PIL import Image

USER = os.environ["CLARIFAI_USER_ID"]
APP = os.environ["CLARIFAI_APP_ID"]


def image_file(path, shade):
    Image.new("RGB", (32, 24), (shade, 255 - shade, 90)).save(path, "JPEG")
    return path


def dataset(dataset_id):
    app = App(user_id=USER, app_id=APP)
    try:
        return app.create_dataset(dataset_id=dataset_id)
    except Exception:
        return Dataset(dataset_id=dataset_id, user_id=USER, app_id=APP)


def folder_with_labels(work):
    """dataset.upload_from_folder(folder_path, input_type='image', labels=True)."""
    ds = dataset("folder")
    sent = []
    for label in ("cat", "dog"):
        folder = os.path.join(work, "folder", label)
        os.makedirs(folder, exist_ok=True)
        for n in range(3):
            image_file(os.path.join(folder, f"{label}_{n}.jpg"), 40 * n + (0 if label == "cat" else 20))
            sent.append({"id": f"{label}_{n}", "concepts": [label]})
        ds.upload_from_folder(folder_path=folder, input_type="image", labels=True)
    return {"dataset": "folder", "inputs": sent}


def csv_examples(work):
    """upload_from_csv with csv_type raw, url and file_path, metadata and geo points."""
    os.makedirs(os.path.join(work, "csv"), exist_ok=True)
    rows = {
        "raw": [
            ["csv-raw-1", "Great food, would come again", "positive", "{'source': 'web', 'stars': 5}", "-122.4,37.7"],
            ["csv-raw-2", "Cold and late", "negative", "{'source': 'app'}", "2.35,48.85"],
        ],
        "url": [
            ["csv-url-1", "https://samples.clarifai.com/metro-north.jpg", "train", "{'city': 'nyc'}", "-73.9,40.7"],
            ["csv-url-2", "https://samples.clarifai.com/dog2.jpeg", "dog", "{'city': 'sf'}", "-122.4,37.7"],
        ],
        "file_path": [],
    }
    for n in range(2):
        path = image_file(os.path.join(work, "csv", f"photo{n}.jpg"), 70 * n + 5)
        rows["file_path"].append([f"csv-file-{n}", path, f"label{n}", "{'n': %d}" % n, f"{n}.5,{n}.25"])
    sent = []
    for csv_type, input_type in (("raw", "text"), ("url", "image"), ("file_path", "image")):
        path = os.path.join(work, "csv", f"{csv_type}.csv")
        with open(path, "w", newline="") as f:
            writer = csv.writer(f, quoting=csv.QUOTE_ALL)
            writer.writerow(["inputid", "input", "concepts", "metadata", "geopoints"])
            writer.writerows(rows[csv_type])
        ds = dataset(f"csv-{csv_type.replace('_', '-')}")
        ds.upload_from_csv(csv_path=path, input_type=input_type, csv_type=csv_type, labels=True)
        for input_id, value, concept, metadata, geo in rows[csv_type]:
            lon, lat = (float(x) for x in geo.split(","))
            sent.append({
                "id": input_id,
                "dataset": ds.id,
                "kind": input_type,
                "text": value if csv_type == "raw" else None,
                "url": value if csv_type == "url" else None,
                "concepts": [concept],
                "metadata": json.loads(metadata.replace("'", '"')),
                "geo": [lon, lat],
            })
    return {"inputs": sent}


def image_boxes_polygon(work):
    """Inputs.get_input_from_file, get_bbox_proto, get_mask_proto, upload_annotations."""
    inputs = Inputs(user_id=USER, app_id=APP)
    os.makedirs(os.path.join(work, "ann"), exist_ok=True)
    path = image_file(os.path.join(work, "ann", "street.jpg"), 99)
    inputs.upload_inputs([Inputs.get_input_from_file(input_id="street", image_file=path)])
    boxes = [("car", [0.1, 0.2, 0.4, 0.6]), ("person", [0.5, 0.1, 0.7, 0.9])]
    polygon = [[0.2, 0.2], [0.8, 0.25], [0.6, 0.9]]
    annotations = [Inputs.get_bbox_proto(input_id="street", label=l, bbox=b) for l, b in boxes]
    annotations.append(Inputs.get_mask_proto(input_id="street", label="road", polygons=polygon))
    inputs.upload_annotations(batch_annot=annotations)
    return {"input": "street", "boxes": boxes, "polygon": {"label": "road", "points": polygon}}


def video_frames(work):
    """A video input and an annotation of boxes on its frames."""
    inputs = Inputs(user_id=USER, app_id=APP)
    os.makedirs(os.path.join(work, "video"), exist_ok=True)
    path = os.path.join(work, "video", "clip.mp4")
    with open(path, "wb") as f:
        f.write(b"\0\0\0\x18ftypisom" + bytes(200))
    inputs.upload_inputs([Inputs.get_input_from_file(input_id="clip", video_file=path)])
    frames = [(0, [0.1, 0.1, 0.3, 0.3]), (1000, [0.2, 0.2, 0.5, 0.5])]
    data = resources_pb2.Data(frames=[
        resources_pb2.Frame(
            frame_info=resources_pb2.FrameInfo(time=t),
            data=Inputs.get_bbox_proto(input_id="clip", label="bird", bbox=b).data,
        )
        for t, b in frames
    ])
    inputs.upload_annotations(batch_annot=[resources_pb2.Annotation(input_id="clip", data=data)])
    return {"input": "clip", "frames": frames, "label": "bird"}


def text_concepts(work):
    """Inputs.get_text_input(input_id, raw_text, labels) and list_annotations."""
    inputs = Inputs(user_id=USER, app_id=APP)
    texts = [("review-1", "The pizza was great", ["positive", "food"]), ("review-2", "Slow service", ["negative"])]
    inputs.upload_inputs([
        Inputs.get_text_input(input_id=i, raw_text=t, labels=l) for i, t, l in texts
    ])
    listed = list(inputs.list_annotations(batch_input=[resources_pb2.Input(id=i) for i, _, _ in texts]))
    return {
        "inputs": [{"id": i, "text": t, "concepts": l} for i, t, l in texts],
        "listed": [{"input_id": a.input_id, "concepts": [c.id for c in a.data.concepts]} for a in listed],
    }


class Images(ClarifaiDataLoader):
    """A visual classification dataloader of small JPEGs, as the page's dataloader examples."""

    def __init__(self, folder, count, prefix):
        os.makedirs(folder, exist_ok=True)
        self.items = [
            VisualClassificationFeatures(
                image_path=image_file(os.path.join(folder, f"{prefix}{n}.jpg"), 7 * n),
                labels=["even" if n % 2 == 0 else "odd"],
                id=f"{prefix}{n}",
                metadata={"n": n},
            )
            for n in range(count)
        ]

    @property
    def task(self):
        return "visual_classification"

    def load_data(self):
        pass

    def __len__(self):
        return len(self.items)

    def __getitem__(self, index):
        return self.items[index]


def batch_upload_status(work):
    """dataset.upload_dataset(dataloader, get_upload_status=True): versions and their metrics."""
    ds = dataset("batch")
    loader = Images(os.path.join(work, "batch"), 10, "batch-")
    ds.upload_dataset(dataloader=loader, batch_size=4, get_upload_status=True)
    versions = [v.version.id for v in ds.list_versions()]
    return {
        "dataset": "batch",
        # The SDK names each input "<dataset id>-<item id>".
        "inputs": [
            {"id": f"batch-batch-{n}", "concepts": ["even" if n % 2 == 0 else "odd"]} for n in range(10)
        ],
        "versions": versions,
    }


def failure_log_retry(work):
    """Duplicate IDs in upload_dataset go to the failure log; retry_upload_from_logs with
    retry_duplicates re-sends them under new IDs."""
    os.chdir(work)
    ds = dataset("retry")
    first = Images(os.path.join(work, "retry"), 4, "dup-")
    ds.upload_dataset(dataloader=first, batch_size=4)
    again = Images(os.path.join(work, "retry2"), 6, "dup-")  # dup-0..3 exist, dup-4..5 are new
    ds.upload_dataset(dataloader=again, batch_size=6, log_warnings=True)
    logs = sorted(f for f in os.listdir(work) if f.startswith("Dataset_Upload") and f.endswith(".log"))
    log = os.path.join(work, logs[-1])
    with open(log) as f:
        text = f.read()
    ds.retry_upload_from_logs(log_file_path=log, dataloader=again, retry_duplicates=True)
    return {"dataset": "retry", "log_mentions_duplicates": "duplicate" in text.lower(), "log": log}


def duplicate_ids(work):
    """upload_inputs with an ID that exists: the input comes back INPUT_DUPLICATE-like."""
    inputs = Inputs(user_id=USER, app_id=APP)
    once = Inputs.get_text_input(input_id="same-id", raw_text="first")
    inputs.upload_inputs([once])
    job_id, response = inputs.upload_inputs([Inputs.get_text_input(input_id="same-id", raw_text="second")])
    return {
        "status": response.status.code,
        "inputs": [{"id": i.id, "code": i.status.code, "details": i.status.details} for i in response.inputs],
    }


SCENARIOS = {
    "folder": folder_with_labels,
    "csv": csv_examples,
    "annotations": image_boxes_polygon,
    "video": video_frames,
    "text": text_concepts,
    "batch": batch_upload_status,
    "retry": failure_log_retry,
    "duplicates": duplicate_ids,
}

if __name__ == "__main__":
    name, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    print(json.dumps(SCENARIOS[name](work)))
