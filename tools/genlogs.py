#!/usr/bin/env python3
"""genlogs.py: deterministic, realistic AWS Bedrock model invocation logs.

Design notes.  Everything comes from random.Random seeded by --seed and by
the (account, region, hour) slot being written, so the same options always
give the same bytes (gzip members carry mtime 0 and no file name), and adding
hours does not change the hours already generated.  Objects are written one
record at a time straight to disk, so neither --target-mb nor --big-object-mb
ever holds more than one record in memory.  --repeated-object-mb is the
exception to variety: a few records repeated, for tests that need a scan to
spend CPU time rather than to meet many different records.

The layout and the records follow the format notes the project works from
(key layout, field order old and new, bodies per operation and vendor) and the
real records kept in test/fixtures/examples:

    <prefix>AWSLogs/<acct>/BedrockModelInvocationLogs/<region>/YYYY/MM/DD/HH/
        <YYYYMMDD>T<HHMMSSmmm>Z_<16 hex>.json.gz      (folder = WRITE time)
        data/<requestId>_input.json.gz                 (offloaded bodies)

A file is written a delivery delay (seconds to a few minutes) after the
records it holds, so records stamped near the end of an hour can sit in the
next hour's folder ("late" records, counted in the manifest).

Every total in the manifest is computed here from the records as written,
never through SQL, so tests can compare the extension's answers with it.

Usage:
    genlogs.py --out DIR [--seed 1] [--bucket NAME] [--prefix P/]
               [--start 2026-11-01T00] [--hours 24] [--accounts a,b]
               [--regions r1,r2] [--files-per-hour 3] [--records-per-file 1-12]
               [--target-mb N] [--big-object-mb N] [--repeated-object-mb N]
               [--manifest PATH]
    genlogs.py --fixtures DIR [--examples DIR]
"""

import argparse
import base64
import datetime as dt
import gzip
import hashlib
import io
import json
import os
import random
import re
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# ---------------------------------------------------------------------------
# Vocabulary

WORDS = (
    "the a of to and in is for on that with as it be by this are from or at an "
    "model data query table index request response token latency region account "
    "bucket object prefix stream chunk record field value error retry timeout cache "
    "summarize explain classify translate extract compare review draft rewrite list "
    "customer invoice order shipment ticket report incident policy contract release "
    "Postgres SQL JSON S3 Bedrock Claude Nova Titan Llama Mistral Cohere Lambda API "
    "please thanks quickly carefully briefly clearly exactly roughly usually never "
    "first second third next last final previous current new old large small "
    "user assistant system tool function result answer question context document "
    "weather time number sum average count total maximum minimum percent ratio "
    "café naïve résumé Zürich São Paulo Kraków 日本 東京 データ 모델 données über "
    "straße niño façade coöperate"
).split()

SPECIALS = [
    'He said "hello" and left.',
    "C:\\Users\\build\\logs\\out.txt",
    "tab\there",
    "line one\nline two\nline three",
    "windows\r\nline",
    "emoji 🚀 and 👍🏽 and 🇯🇵",
    "日本語のテキストです。",
    "naïve café résumé",
    "math: 2 < 3 && 5 > 4",
    "nul-ish \u0001 control \u001f chars",
    "unicode escapes \u2028 line separator \u2029 paragraph",
    "</script><script>alert(1)</script>",
    "backslash-quote \\\" end",
    "{\"not\": \"a real object\"}",
]

# (vendor, base model id, family tag, weight, can stream/converse)
MODELS = [
    ("anthropic", "anthropic.claude-3-5-sonnet-20240620-v1:0", "claude", 10),
    ("anthropic", "anthropic.claude-3-5-sonnet-20241022-v2:0", "claude", 8),
    ("anthropic", "anthropic.claude-3-5-haiku-20241022-v1:0", "claude", 9),
    ("anthropic", "anthropic.claude-3-haiku-20240307-v1:0", "claude", 7),
    ("anthropic", "anthropic.claude-3-7-sonnet-20250219-v1:0", "claude", 6),
    ("anthropic", "anthropic.claude-sonnet-4-20250514-v1:0", "claude", 8),
    ("anthropic", "anthropic.claude-sonnet-4-5-20250929-v1:0", "claude", 7),
    ("anthropic", "anthropic.claude-haiku-4-5-20251001-v1:0", "claude", 6),
    ("anthropic", "anthropic.claude-opus-4-1-20250805-v1:0", "claude", 2),
    ("amazon", "amazon.nova-lite-v1:0", "nova", 7),
    ("amazon", "amazon.nova-pro-v1:0", "nova", 5),
    ("amazon", "amazon.nova-micro-v1:0", "nova", 4),
    ("amazon", "amazon.titan-text-express-v1", "titan", 3),
    ("amazon", "amazon.titan-text-lite-v1", "titan", 1),
    ("amazon", "amazon.titan-embed-text-v2:0", "titan-embed", 5),
    ("meta", "meta.llama3-1-70b-instruct-v1:0", "llama", 3),
    ("meta", "meta.llama3-2-11b-instruct-v1:0", "llama", 2),
    ("meta", "meta.llama3-3-70b-instruct-v1:0", "llama", 3),
    ("mistral", "mistral.mistral-large-2407-v1:0", "mistral", 2),
    ("mistral", "mistral.mixtral-8x7b-instruct-v0:1", "mistral", 1),
    ("cohere", "cohere.command-r-plus-v1:0", "cohere", 2),
    ("cohere", "cohere.embed-english-v3", "cohere-embed", 2),
]
MODEL_WEIGHTS = [m[3] for m in MODELS]

# geography prefix of inference profiles -> regions that may serve them
GEO_REGIONS = {
    "us": ["us-east-1", "us-east-2", "us-west-2"],
    "eu": ["eu-west-1", "eu-central-1", "eu-west-3", "eu-north-1"],
    "apac": ["ap-northeast-1", "ap-southeast-2", "ap-south-1", "ap-southeast-1"],
    "global": ["us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1"],
}
# families that have cross-region inference profiles
PROFILE_FAMILIES = {"claude", "nova", "llama"}

ERRORS = [
    ("ThrottlingException", 6),
    ("ValidationException", 5),
    ("AccessDeniedException", 2),
    ("ModelTimeoutException", 2),
    ("ServiceUnavailableException", 1),
    ("ModelErrorException", 1),
    ("ResourceNotFoundException", 1),
]

OPERATIONS = [
    ("Converse", 35),
    ("ConverseStream", 20),
    ("InvokeModel", 30),
    ("InvokeModelWithResponseStream", 15),
]

USERS = ["alice", "bob", "carol.ng", "dheeraj", "eve@example.com", "ci-bot", "führer-test", "ops"]
ROLES = [
    ("BedrockAppRole", "app-prod-1"),
    ("BedrockAppRole", "app-prod-2"),
    ("LambdaSummarizer", "summarizer-fn"),
    ("DataScience", "notebook-session"),
    ("AWSReservedSSO_PowerUser_0123456789abcdef", "alice@example.com"),
]

TEAMS = ["orchestrator", "search", "support-bot", "analytics", "équipe-données", "研究"]
ENVS = ["production", "staging", "dev"]

GUARDRAIL_IDS = ["gr1a2b3c4d5e", "qx7y8z9w0v1u"]


# a fixed corpus that text() slices; built once from its own seed
CORPUS = " ".join(random.Random("bedlog-corpus").choices(WORDS, k=200000))
AVG_WORD = max(1, len(CORPUS) // 200000)


def isofmt(t):
    """Bedrock timestamp form: YYYY-MM-DDTHH:MM:SSZ."""
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_start(s):
    for fmt in ("%Y-%m-%dT%H", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(s.rstrip("Z"), fmt)
        except ValueError:
            pass
    raise SystemExit("genlogs.py: --start wants YYYY-MM-DDTHH, not %r" % s)


def hour_folder(t):
    return t.strftime("%Y/%m/%d/%H")


def log_dir_key(prefix, acct, region, t):
    return "%sAWSLogs/%s/BedrockModelInvocationLogs/%s/%s/" % (prefix, acct, region, hour_folder(t))


def file_name(write_time, rng):
    return "%s%03dZ_%016x.json.gz" % (
        write_time.strftime("%Y%m%dT%H%M%S"),
        write_time.microsecond // 1000,
        rng.getrandbits(64),
    )


# ---------------------------------------------------------------------------
# Output helpers


def ensure_parent(path):
    d = os.path.dirname(path)
    if d:
        os.makedirs(d, exist_ok=True)


def gzip_bytes(data, level=6):
    """Deterministic gzip member (mtime 0, no file name)."""
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=level, mtime=0, filename="") as g:
        g.write(data)
    return buf.getvalue()


class GzWriter:
    """Streams bytes to a deterministic gzip file; can start new members."""

    def __init__(self, path, level):
        ensure_parent(path)
        self.f = open(path, "wb")
        self.level = level
        self.g = None
        self.raw = 0
        self.new_member()

    def new_member(self):
        if self.g is not None:
            self.g.close()
        self.g = gzip.GzipFile(fileobj=self.f, mode="wb", compresslevel=self.level, mtime=0, filename="")

    def write(self, b):
        self.raw += len(b)
        self.g.write(b)

    def close(self):
        self.g.close()
        size = self.f.tell()
        self.f.close()
        return size


def write_object(root, key, data):
    path = os.path.join(root, key)
    ensure_parent(path)
    with open(path, "wb") as f:
        f.write(data)
    return len(data)


# ---------------------------------------------------------------------------
# Totals (the manifest's truth)


class Totals:
    """Aggregates that tests compare SQL results with."""

    def __init__(self):
        self.records = 0
        self.errors = 0
        self.late = 0
        self.json_bytes = 0
        self.input_tokens = 0
        self.output_tokens = 0
        self.cache_read_tokens = 0
        self.cache_write_tokens = 0
        self.by_account = {}
        self.by_operation = {}
        self.by_model = {}
        self.by_error = {}
        self.by_hour = {}
        self.by_folder_hour = {}
        self.by_identity = {}
        self.offloaded_input = 0
        self.offloaded_output = 0
        self.with_inference_region = 0
        self.with_request_metadata = 0
        self.min_ts = None
        self.max_ts = None

    def add(self, rec, folder_hour, nbytes=0, times=1):
        """Count rec (of nbytes bytes of JSON) times times."""
        self.records += times
        self.json_bytes += nbytes * times
        ts = rec.get("timestamp")
        acct = rec.get("accountId")
        region = rec.get("region")
        a = self.by_account.setdefault(acct, {})
        a[region] = a.get(region, 0) + times
        op = rec.get("operation")
        self.by_operation[op] = self.by_operation.get(op, 0) + times
        inp = rec.get("input") or {}
        out = rec.get("output") or {}
        it = inp.get("inputTokenCount")
        ot = out.get("outputTokenCount")
        m = self.by_model.setdefault(
            rec.get("modelId"),
            {"count": 0, "errors": 0, "input_tokens": 0, "output_tokens": 0,
             "input_token_rows": 0, "output_token_rows": 0},
        )
        m["count"] += times
        if isinstance(it, int):
            m["input_tokens"] += it * times
            m["input_token_rows"] += times
            self.input_tokens += it * times
        if isinstance(ot, int):
            m["output_tokens"] += ot * times
            m["output_token_rows"] += times
            self.output_tokens += ot * times
        self.cache_read_tokens += (inp.get("cacheReadInputTokenCount") or 0) * times
        self.cache_write_tokens += (inp.get("cacheWriteInputTokenCount") or 0) * times
        if "errorCode" in rec:
            self.errors += times
            m["errors"] += times
            self.by_error[rec["errorCode"]] = self.by_error.get(rec["errorCode"], 0) + times
        if "inputBodyS3Path" in inp:
            self.offloaded_input += times
        if "outputBodyS3Path" in out:
            self.offloaded_output += times
        if "inferenceRegion" in rec:
            self.with_inference_region += times
        if "requestMetadata" in rec:
            self.with_request_metadata += times
        ident = (rec.get("identity") or {}).get("arn")
        self.by_identity[ident] = self.by_identity.get(ident, 0) + times
        if isinstance(ts, str):
            h = ts[:13]
            self.by_hour[h] = self.by_hour.get(h, 0) + times
            if folder_hour is not None and h != folder_hour:
                self.late += times
            if self.min_ts is None or ts < self.min_ts:
                self.min_ts = ts
            if self.max_ts is None or ts > self.max_ts:
                self.max_ts = ts
        if folder_hour is not None:
            self.by_folder_hour[folder_hour] = self.by_folder_hour.get(folder_hour, 0) + times

    def as_dict(self):
        by_region = {}
        for regions in self.by_account.values():
            for r, n in regions.items():
                by_region[r] = by_region.get(r, 0) + n
        return {
            "records": self.records,
            "records_with_error": self.errors,
            "late_records": self.late,
            "json_bytes": self.json_bytes,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_input_tokens": self.cache_read_tokens,
            "cache_write_input_tokens": self.cache_write_tokens,
            "offloaded_input": self.offloaded_input,
            "offloaded_output": self.offloaded_output,
            "with_inference_region": self.with_inference_region,
            "with_request_metadata": self.with_request_metadata,
            "min_timestamp": self.min_ts,
            "max_timestamp": self.max_ts,
            "by_account_region": {k: dict(sorted(v.items())) for k, v in sorted(self.by_account.items(), key=lambda kv: str(kv[0]))},
            "by_region": dict(sorted(by_region.items(), key=lambda kv: str(kv[0]))),
            "by_operation": dict(sorted(self.by_operation.items(), key=lambda kv: str(kv[0]))),
            "by_error_code": dict(sorted(self.by_error.items())),
            "by_model": dict(sorted(self.by_model.items(), key=lambda kv: str(kv[0]))),
            "by_identity": dict(sorted(self.by_identity.items(), key=lambda kv: str(kv[0]))),
            "by_timestamp_hour": dict(sorted(self.by_hour.items())),
            "by_folder_hour": dict(sorted(self.by_folder_hour.items())),
        }


# ---------------------------------------------------------------------------
# Record generation


class Gen:
    """Builds records; one instance per bucket being generated."""

    def __init__(self, bucket, prefix, gzip_level=6, offload_rate=0.03, media_rate=0.01):
        self.bucket = bucket
        self.prefix = prefix
        self.gzip_level = gzip_level
        self.offload_rate = offload_rate
        self.media_rate = media_rate
        self.app_profiles = {}

    # -- text ------------------------------------------------------------

    def text(self, rng, nwords):
        """About nwords words: a slice of the corpus at a random word
        boundary (much cheaper than drawing each word)."""
        n = max(1, nwords) * AVG_WORD
        if n >= len(CORPUS) // 2:
            reps = n // len(CORPUS) + 1
            s = (CORPUS * reps)[:n]
        else:
            off = rng.randrange(len(CORPUS) - n - 64)
            off = CORPUS.find(" ", off) + 1
            end = CORPUS.rfind(" ", off, off + n)
            s = CORPUS[off:end if end > off else off + n]
        if rng.random() < 0.15:
            s += " " + rng.choice(SPECIALS)
        return s[:1].upper() + s[1:] + "."

    # -- identities and models --------------------------------------------

    def identity(self, rng, acct):
        if rng.random() < 0.45:
            return "arn:aws:iam::%s:user/%s" % (acct, USERS[min(int(rng.expovariate(0.6)), len(USERS) - 1)])
        role, sess = ROLES[min(int(rng.expovariate(0.5)), len(ROLES) - 1)]
        return "arn:aws:sts::%s:assumed-role/%s/%s" % (acct, role, sess)

    def app_profile_id(self, acct, region, base):
        key = (acct, region, base)
        if key not in self.app_profiles:
            h = hashlib.sha256(("%s/%s/%s" % key).encode()).hexdigest()
            alnum = "".join(c for c in h if c.isalnum())
            self.app_profiles[key] = alnum[:12]
        return self.app_profiles[key]

    def model_id(self, rng, acct, region):
        """Returns (modelId as sent, vendor, family, base id, inferenceRegion or None)."""
        vendor, base, family, _w = rng.choices(MODELS, weights=MODEL_WEIGHTS)[0]
        geo = "eu" if region.startswith("eu-") else "apac" if region.startswith("ap-") else "us"
        r = rng.random()
        if family in PROFILE_FAMILIES and r < 0.45:
            g = "global" if (family == "claude" and rng.random() < 0.2) else geo
            prof = "%s.%s" % (g, base)
            ir = rng.choice(GEO_REGIONS[g])
            if rng.random() < 0.25:
                mid = "arn:aws:bedrock:%s:%s:inference-profile/%s" % (region, acct, prof)
            else:
                mid = prof
            return mid, vendor, family, base, ir
        if r < 0.55:
            mid = "arn:aws:bedrock:%s::foundation-model/%s" % (region, base)
            return mid, vendor, family, base, None
        if r < 0.62:
            mid = "arn:aws:bedrock:%s:%s:application-inference-profile/%s" % (
                region, acct, self.app_profile_id(acct, region, base))
            ir = rng.choice(GEO_REGIONS[geo]) if family in PROFILE_FAMILIES and rng.random() < 0.5 else None
            return mid, vendor, family, base, ir
        return base, vendor, family, base, None

    # -- bodies ------------------------------------------------------------

    def converse_input(self, rng, guard, media_uri, ntok):
        msgs = []
        turns = 1 if rng.random() < 0.7 else rng.choice([3, 5])
        for i in range(turns):
            role = "user" if i % 2 == 0 else "assistant"
            msgs.append({"role": role, "content": [{"text": self.text(rng, rng.randint(3, max(4, ntok // turns)))}]})
        if media_uri:
            msgs[-1]["content"].append(
                {"document": {"format": "pdf", "name": "attachment", "source": {"s3Uri": media_uri}}})
        body = {"messages": msgs}
        if rng.random() < 0.4:
            body["system"] = [{"text": self.text(rng, rng.randint(5, 40))}]
        ic = {"maxTokens": rng.choice([256, 512, 1024, 4096, 32000])}
        if rng.random() < 0.8:
            ic["temperature"] = rng.choice([0.0, 0.2, 0.5, 0.7, 1.0])
        if rng.random() < 0.5:
            ic["topP"] = rng.choice([0.9, 0.999])
        if rng.random() < 0.5:
            ic["stopSequences"] = []
        body["inferenceConfig"] = ic
        if rng.random() < 0.5:
            body["additionalModelRequestFields"] = {"top_k": 250} if rng.random() < 0.5 else {}
        if guard:
            body["guardrailConfig"] = {"guardrailIdentifier": guard, "guardrailVersion": "1", "trace": "enabled"}
        return body

    def converse_output(self, rng, itok, otok, cache, guard_hit, guard):
        if guard_hit:
            text = "Sorry, the model cannot answer this question."
            stop = "guardrail_intervened"
        else:
            text = self.text(rng, max(1, int(otok * 0.75)))
            stop = rng.choices(["end_turn", "max_tokens", "stop_sequence", "tool_use"], weights=[90, 5, 3, 2])[0]
        out = {
            "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
            "stopReason": stop,
            "metrics": {"latencyMs": int(200 + otok * rng.uniform(8, 30) + rng.expovariate(1 / 300))},
        }
        usage = {"inputTokens": itok}
        if cache is not None:
            usage["cacheReadInputTokens"] = cache[0]
            usage["cacheWriteInputTokens"] = cache[1]
        usage["outputTokens"] = otok
        usage["totalTokens"] = itok + otok + (sum(cache) if cache else 0)
        out["usage"] = usage
        if guard_hit:
            out["trace"] = {"guardrail": {"inputAssessment": {guard: {"contentPolicy": {"filters": [
                {"type": rng.choice(["VIOLENCE", "HATE", "INSULTS", "MISCONDUCT"]), "confidence": "HIGH",
                 "filterStrength": "HIGH", "action": "BLOCKED", "detected": True}]}}}}}
        return out

    def invoke_input(self, rng, family, ntok):
        prompt = self.text(rng, max(2, int(ntok * 0.75)))
        if family == "claude":
            b = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": rng.choice([512, 1024, 2000, 4096])}
            if rng.random() < 0.3:
                b["system"] = self.text(rng, 20)
            b["messages"] = [{"role": "user", "content": [{"type": "text", "text": prompt}]}]
            if rng.random() < 0.5:
                b["temperature"] = rng.choice([0, 0.5, 1])
            return b
        if family == "nova":
            return {"schemaVersion": "messages-v1",
                    "messages": [{"role": "user", "content": [{"text": prompt}]}],
                    "inferenceConfig": {"maxTokens": rng.choice([300, 1000]), "temperature": 0.7}}
        if family == "titan":
            return {"inputText": prompt,
                    "textGenerationConfig": {"maxTokenCount": 512, "temperature": 0.5, "topP": 0.9, "stopSequences": []}}
        if family == "titan-embed":
            return {"inputText": prompt, "dimensions": 256, "normalize": True}
        if family == "llama":
            return {"prompt": "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n%s<|eot_id|>"
                              "<|start_header_id|>assistant<|end_header_id|>\n\n" % prompt,
                    "max_gen_len": 512, "temperature": 0.5, "top_p": 0.9}
        if family == "mistral":
            return {"prompt": "<s>[INST] %s [/INST]" % prompt, "max_tokens": 400, "temperature": 0.7}
        if family == "cohere":
            return {"message": prompt, "chat_history": [], "max_tokens": 500, "temperature": 0.3}
        if family == "cohere-embed":
            return {"texts": [prompt], "input_type": "search_document", "truncate": "END"}
        raise AssertionError(family)

    def invoke_output(self, rng, family, base, itok, otok):
        text = self.text(rng, max(1, int(otok * 0.75)))
        if family == "claude":
            return {"id": "msg_bdrk_01" + "%022x" % rng.getrandbits(88), "type": "message", "role": "assistant",
                    "model": base.split(".", 1)[1].rsplit("-v", 1)[0],
                    "content": [{"type": "text", "text": text}],
                    "stop_reason": "end_turn", "stop_sequence": None,
                    "usage": {"input_tokens": itok, "output_tokens": otok}}
        if family == "nova":
            return {"output": {"message": {"content": [{"text": text}], "role": "assistant"}},
                    "stopReason": "end_turn",
                    "usage": {"inputTokens": itok, "outputTokens": otok, "totalTokens": itok + otok}}
        if family == "titan":
            return {"inputTextTokenCount": itok,
                    "results": [{"tokenCount": otok, "outputText": text, "completionReason": "FINISH"}]}
        if family == "titan-embed":
            return {"embedding": [round(rng.uniform(-0.2, 0.2), 6) for _ in range(32)],
                    "embeddingsByType": {"float": []}, "inputTextTokenCount": itok}
        if family == "llama":
            return {"generation": text, "prompt_token_count": itok, "generation_token_count": otok,
                    "stop_reason": "stop"}
        if family == "mistral":
            return {"outputs": [{"text": text, "stop_reason": "stop"}]}
        if family == "cohere":
            return {"response_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "text": text,
                    "generation_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "chat_history": [], "finish_reason": "COMPLETE"}
        if family == "cohere-embed":
            return {"embeddings": [[round(rng.uniform(-0.1, 0.1), 5) for _ in range(32)]],
                    "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "response_type": "embeddings_floats", "texts": ["..."]}
        raise AssertionError(family)

    def stream_output(self, rng, family, base, itok, otok):
        nchunks = max(1, min(otok, 120))
        toks = rng.choices(WORDS, k=nchunks)
        toks = [(" " + t if i else t) for i, t in enumerate(toks)]
        lat = int(300 + otok * rng.uniform(8, 30))
        metrics = {"inputTokenCount": itok, "outputTokenCount": otok,
                   "invocationLatency": lat, "firstByteLatency": int(rng.uniform(150, 900))}
        ev = []
        if family == "claude":
            ev.append({"type": "message_start", "message": {
                "id": "msg_bdrk_01" + "%022x" % rng.getrandbits(88), "type": "message", "role": "assistant",
                "content": [], "model": base.split(".", 1)[1].rsplit("-v", 1)[0], "stop_reason": None,
                "stop_sequence": None, "usage": {"input_tokens": itok, "output_tokens": 1}}})
            ev.append({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
            for t in toks:
                ev.append({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}})
            ev.append({"type": "content_block_stop", "index": 0})
            ev.append({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                       "usage": {"output_tokens": otok}})
            ev.append({"type": "message_stop", "amazon-bedrock-invocationMetrics": metrics})
        elif family == "nova":
            ev.append({"messageStart": {"role": "assistant"}})
            for t in toks:
                ev.append({"contentBlockDelta": {"delta": {"text": t}, "contentBlockIndex": 0}})
            ev.append({"contentBlockStop": {"contentBlockIndex": 0}})
            ev.append({"messageStop": {"stopReason": "end_turn"}})
            ev.append({"metadata": {"usage": {"inputTokens": itok, "outputTokens": otok}, "metrics": {}, "trace": {}},
                       "amazon-bedrock-invocationMetrics": metrics})
        elif family == "titan":
            for i, t in enumerate(toks):
                ev.append({"outputText": t, "index": 0, "totalOutputTextTokenCount": None,
                           "completionReason": None, "inputTextTokenCount": itok if i == 0 else None})
            ev.append({"outputText": "", "index": 0, "totalOutputTextTokenCount": otok,
                       "completionReason": "FINISH", "inputTextTokenCount": None,
                       "amazon-bedrock-invocationMetrics": metrics})
        elif family == "llama":
            for i, t in enumerate(toks):
                ev.append({"generation": t, "prompt_token_count": itok if i == 0 else None,
                           "generation_token_count": i + 1, "stop_reason": None})
            ev.append({"generation": "", "prompt_token_count": None, "generation_token_count": otok,
                       "stop_reason": "stop", "amazon-bedrock-invocationMetrics": metrics})
        elif family == "mistral":
            for t in toks:
                ev.append({"outputs": [{"text": t, "stop_reason": None}]})
            ev.append({"outputs": [{"text": "", "stop_reason": "stop"}], "amazon-bedrock-invocationMetrics": metrics})
        elif family == "cohere":
            ev.append({"is_finished": False, "event_type": "stream-start",
                       "generation_id": str(uuid.UUID(int=rng.getrandbits(128), version=4))})
            for t in toks:
                ev.append({"is_finished": False, "event_type": "text-generation", "text": t})
            ev.append({"is_finished": True, "event_type": "stream-end", "finish_reason": "COMPLETE",
                       "amazon-bedrock-invocationMetrics": metrics})
        else:
            raise AssertionError(family)
        return ev

    # -- one record ----------------------------------------------------------

    def record(self, rng, acct, region, ts, sidecars, force=None):
        """Build one record dict.  Offloaded bodies are appended to sidecars
        as (key, bytes).  force may pin 'op', 'offload_input',
        'offload_output', 'media', 'error', 'new'."""
        force = force or {}
        new = force.get("new", rng.random() < 0.6)
        mid, vendor, family, base, ir = self.model_id(rng, acct, region)
        embed = family.endswith("embed")
        if "op" in force:
            op = force["op"]
            if embed and op != "InvokeModel":
                while family.endswith("embed"):
                    mid, vendor, family, base, ir = self.model_id(rng, acct, region)
                embed = False
        elif embed:
            op = "InvokeModel"
        else:
            op = rng.choices([o for o, _ in OPERATIONS], weights=[w for _, w in OPERATIONS])[0]
        rid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        ident = self.identity(rng, acct)
        err = force.get("error")
        if err is None and rng.random() < 0.05:
            err = rng.choices([e for e, _ in ERRORS], weights=[w for _, w in ERRORS])[0]
        meta = None
        if rng.random() < 0.2:
            meta = {"team": rng.choice(TEAMS), "environment": rng.choice(ENVS)}
            if rng.random() < 0.3:
                meta["ticket"] = "JIRA-%d" % rng.randint(100, 9999)

        itok = int(rng.lognormvariate(5.0, 1.1)) + 1
        otok = 0 if embed else int(rng.lognormvariate(4.5, 0.9)) + 1
        cache = None
        if new and family == "claude" and not embed:
            if rng.random() < 0.3:
                cache = (rng.choice([0, 0, 1024, 2048, 4096]), rng.choice([0, 0, 0, 512, 1536]))
            else:
                cache = (0, 0)
        elif new and not embed:
            cache = (0, 0)
        guard = rng.choice(GUARDRAIL_IDS) if (op.startswith("Converse") and rng.random() < 0.08) else None
        guard_hit = bool(guard) and rng.random() < 0.5
        if guard_hit:
            itok = 0

        hour_key = log_dir_key(self.prefix, acct, region, ts)
        inp = {"inputContentType": "application/json"}
        out = {"outputContentType": "application/json"}
        if err:
            if rng.random() < 0.5:
                inp["inputTokenCount"] = 0
                out["outputTokenCount"] = 0
                inp_body = out_body = None
            else:
                inp_body = out_body = None
                inp = out = None
        else:
            media_uri = None
            if force.get("media") or (op.startswith("Converse") and rng.random() < self.media_rate):
                mkey = "%sdata/%s_input_media_00.pdf" % (hour_key, rid)
                media_uri = "s3://%s/%s" % (self.bucket, mkey)
                sidecars.append((mkey, fake_pdf(rng)))
            if op.startswith("Converse"):
                inp_body = self.converse_input(rng, guard, media_uri, itok)
                out_body = self.converse_output(rng, itok, otok, cache, guard_hit, guard)
            elif op == "InvokeModel":
                inp_body = self.invoke_input(rng, family, itok)
                out_body = self.invoke_output(rng, family, base, itok, otok)
            else:
                inp_body = self.invoke_input(rng, family, itok)
                out_body = self.stream_output(rng, family, base, itok, otok)
            off_in = force.get("offload_input", rng.random() < self.offload_rate)
            off_out = force.get("offload_output", off_in and rng.random() < 0.3)
            if off_in:
                # offloaded bodies are over 100 KB: make it so
                inp_body = dict(inp_body)
                inp_body["context"] = self.text(rng, 16000)
                k = "%sdata/%s_input.json.gz" % (hour_key, rid)
                sidecars.append((k, gzip_bytes(json.dumps(inp_body, ensure_ascii=False, separators=(",", ":")).encode(), self.gzip_level)))
                inp["inputBodyS3Path"] = "s3://%s/%s" % (self.bucket, k)
                inp_body = None
            if off_out:
                k = "%sdata/%s_output.json.gz" % (hour_key, rid)
                sidecars.append((k, gzip_bytes(json.dumps(out_body, ensure_ascii=False, separators=(",", ":")).encode(), self.gzip_level)))
                out["outputBodyS3Path"] = "s3://%s/%s" % (self.bucket, k)
                out_body = None
        if inp is not None:
            if inp_body is not None:
                inp["inputBodyJson"] = inp_body
            if not err:
                inp["inputTokenCount"] = itok
                if cache is not None:
                    inp["cacheReadInputTokenCount"] = cache[0]
                    inp["cacheWriteInputTokenCount"] = cache[1]
        if out is not None:
            if out_body is not None:
                out["outputBodyJson"] = out_body
            if not err:
                out["outputTokenCount"] = otok

        r = {}
        if not new:
            r["schemaType"] = "ModelInvocationLog"
            r["schemaVersion"] = "1.0"
        r["timestamp"] = isofmt(ts)
        r["accountId"] = acct
        if not new:
            r["identity"] = {"arn": ident}
        r["region"] = region
        r["requestId"] = rid
        r["operation"] = op
        r["modelId"] = mid
        if meta:
            r["requestMetadata"] = meta
        if err:
            r["errorCode"] = err
        if inp is not None:
            r["input"] = inp
        if out is not None:
            r["output"] = out
        if new:
            r["identity"] = {"arn": ident}
            if ir:
                r["inferenceRegion"] = ir
            r["schemaType"] = "ModelInvocationLog"
            r["schemaVersion"] = "1.0"
        elif ir:
            # older records put it after modelId; keep it in the middle
            items = list(r.items())
            pos = [k for k, _ in items].index("modelId") + 1
            items.insert(pos, ("inferenceRegion", ir))
            r = dict(items)
        return r


def fake_pdf(rng):
    body = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n"
    return body.encode("latin-1") + bytes(rng.getrandbits(8) for _ in range(512)) + b"\n%%EOF\n"


def dumps(rec, ascii_only):
    return json.dumps(rec, ensure_ascii=ascii_only, separators=(",", ":")).encode("utf-8")


# ---------------------------------------------------------------------------
# Writing log objects


class Bucket:
    """Writes one bucket's objects under root/ and keeps its manifest."""

    def __init__(self, root, name, prefix, gzip_level=6, offload_rate=0.03, media_rate=0.01):
        self.root = root
        self.name = name
        self.prefix = prefix
        self.gen = Gen(name, prefix, gzip_level, offload_rate, media_rate)
        self.gzip_level = gzip_level
        self.totals = Totals()
        self.objects = []
        self.data_objects = []
        self.other_objects = []

    def log_object(self, rng, acct, region, write_time, nrec, style="normal", max_delay=240,
                   forces=None, name=None):
        """Write one log object written at write_time holding nrec records
        stamped before it.  style: normal, multimember, no-final-newline,
        blank-lines.  Returns the key."""
        key = log_dir_key(self.prefix, acct, region, write_time) + (name or file_name(write_time, rng))
        folder_hour = write_time.strftime("%Y-%m-%dT%H")
        ascii_only = rng.random() < 0.2
        delays = sorted((rng.uniform(1, max_delay) for _ in range(nrec)), reverse=True)
        w = GzWriter(os.path.join(self.root, key), self.gzip_level)
        sidecars = []
        records = 0
        for i, d in enumerate(delays):
            ts = (write_time - dt.timedelta(seconds=d)).replace(microsecond=0)
            force = forces[i] if forces and i < len(forces) else None
            rec = self.gen.record(rng, acct, region, ts, sidecars, force)
            line = dumps(rec, ascii_only)
            if style == "multimember" and i > 0 and i in (nrec // 3, 2 * nrec // 3):
                w.new_member()
            if style == "blank-lines" and i == 1:
                w.write(b"\n")
            if style == "blank-lines" and i == nrec - 1:
                w.write(line + b"\r\n")
            elif style == "no-final-newline" and i == nrec - 1:
                w.write(line)
            else:
                w.write(line + b"\n")
            self.totals.add(rec, folder_hour, len(line))
            records += 1
        if style == "blank-lines":
            w.write(b"\n")
        size = w.close()
        self.objects.append({"key": key, "records": records, "bytes": size, "json_bytes": w.raw,
                             "account": acct, "region": region, "folder_hour": folder_hour,
                             **({"style": style} if style != "normal" else {})})
        for k, data in sidecars:
            write_object(self.root, k, data)
            self.data_objects.append({"key": k, "bytes": len(data)})
        return key

    def other(self, key, data, kind):
        write_object(self.root, key, data)
        self.other_objects.append({"key": key, "bytes": len(data), "kind": kind})

    def manifest(self, extra=None):
        m = {
            "bucket": self.name,
            "prefix": self.prefix,
            "log_objects": len(self.objects),
            "data_objects_count": len(self.data_objects),
            "other_objects_count": len(self.other_objects),
            "all_objects": len(self.objects) + len(self.data_objects) + len(self.other_objects),
            "totals": self.totals.as_dict(),
        }
        if extra:
            m.update(extra)
        m["objects"] = self.objects
        m["data_objects"] = self.data_objects
        m["other_objects"] = self.other_objects
        return m


def slot_rng(seed, *parts):
    return random.Random("%s/%s" % (seed, "/".join(str(p) for p in parts)))


def write_times_for_hour(rng, hour, nfiles):
    """Write times inside one hour; about a quarter of the slots get a file in
    the first three minutes, which collects late records of the hour before."""
    times = []
    for i in range(nfiles):
        if i == 0 and rng.random() < 0.35:
            off = rng.uniform(5, 180)
        else:
            off = rng.uniform(0, 3600)
        times.append(hour + dt.timedelta(seconds=off))
    times.sort()
    return [t.replace(microsecond=(t.microsecond // 1000) * 1000) for t in times]


def generate(b, seed, start, hours, accounts, regions, files_per_hour, rmin, rmax,
             target_bytes=None, styles=None):
    """Generate hours of logs into bucket b.  styles maps (account index,
    region index, hour index, file index) to a file style."""
    styles = styles or {}
    h = 0
    while True:
        if target_bytes is None and h >= hours:
            break
        hour = start + dt.timedelta(hours=h)
        for ai, acct in enumerate(accounts):
            for ri, region in enumerate(regions):
                rng = slot_rng(seed, acct, region, hour.strftime("%Y%m%d%H"))
                for fi, wt in enumerate(write_times_for_hour(rng, hour, files_per_hour)):
                    style = styles.get((ai, ri, h, fi), "normal")
                    n = rng.randint(rmin, rmax)
                    if style != "normal":
                        n = max(n, 4)
                    b.log_object(rng, acct, region, wt, n, style)
                    if target_bytes is not None and b.totals.json_bytes >= target_bytes:
                        return
        h += 1


def big_object(b, seed, start, acct, region, mb):
    """One huge log object, streamed record by record."""
    rng = slot_rng(seed, "big", acct, region)
    write_time = start + dt.timedelta(minutes=59, seconds=59, milliseconds=999)
    key = log_dir_key(b.prefix, acct, region, write_time) + file_name(write_time, rng)
    folder_hour = write_time.strftime("%Y-%m-%dT%H")
    w = GzWriter(os.path.join(b.root, key), b.gzip_level)
    target = mb * 1024 * 1024
    records = 0
    sidecars = []
    while w.raw < target:
        ts = start + dt.timedelta(seconds=min(3599, int(3600 * w.raw / target)))
        rec = b.gen.record(rng, acct, region, ts, sidecars, {"offload_input": False, "offload_output": False})
        line = dumps(rec, False)
        w.write(line + b"\n")
        b.totals.add(rec, folder_hour, len(line))
        records += 1
        sidecars.clear()
    size = w.close()
    b.objects.append({"key": key, "records": records, "bytes": size, "json_bytes": w.raw,
                      "account": acct, "region": region, "folder_hour": folder_hour})


def repeated_object(b, seed, start, acct, region, mb, distinct=6, max_record=8192, block_mb=4):
    """One huge log object made cheaply: a few realistic records (each under
    max_record bytes, so that one round of them fits in deflate's 32 kB
    window) repeated into a block of about block_mb MB, compressed once as a
    gzip member (level 9: the fast levels give up before they find the
    round before), and that member written until the object holds mb MB of
    JSON.  Concatenated members are legal gzip; the object stays about a
    hundredth of its JSON size."""
    rng = slot_rng(seed, "repeated", acct, region)
    write_time = start + dt.timedelta(minutes=59, seconds=59, milliseconds=999)
    key = log_dir_key(b.prefix, acct, region, write_time) + file_name(write_time, rng)
    folder_hour = write_time.strftime("%Y-%m-%dT%H")
    recs = []
    sidecars = []
    while len(recs) < distinct:
        ts = start + dt.timedelta(seconds=int(3600 * len(recs) / distinct))
        rec = b.gen.record(rng, acct, region, ts, sidecars, {"offload_input": False, "offload_output": False})
        sidecars.clear()
        line = dumps(rec, False)
        if len(line) < max_record:
            recs.append((rec, line))
    unit = b"".join(line + b"\n" for _, line in recs)
    reps = max(1, int(block_mb * 1024 * 1024) // len(unit))
    member = gzip_bytes(unit * reps, 9)
    members = max(1, int(round(mb * 1024 * 1024 / (len(unit) * reps))))
    path = os.path.join(b.root, key)
    ensure_parent(path)
    with open(path, "wb") as f:
        for _ in range(members):
            f.write(member)
        size = f.tell()
    for rec, line in recs:
        b.totals.add(rec, folder_hour, len(line), members * reps)
    b.objects.append({"key": key, "records": members * reps * len(recs), "bytes": size,
                      "json_bytes": members * reps * len(unit), "account": acct, "region": region,
                      "folder_hour": folder_hour, "style": "repeated"})


# ---------------------------------------------------------------------------
# Fixtures


def compact_example(path):
    with open(path, "rb") as f:
        rec = json.loads(f.read().decode("utf-8"))
    return rec, json.dumps(rec, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def fixtures_examples(root, examples_dir):
    b = Bucket(os.path.join(root, "examples"), "examples", "logs/")
    names = sorted(n for n in os.listdir(examples_dir) if n.endswith(".json"))
    if not names:
        raise SystemExit("genlogs.py: no examples in %s" % examples_dir)
    for n in names:
        rec, line = compact_example(os.path.join(examples_dir, n))
        ts = dt.datetime.strptime(rec["timestamp"], "%Y-%m-%dT%H:%M:%SZ")
        wt = ts + dt.timedelta(seconds=30)
        acct = rec.get("accountId")
        if not (isinstance(acct, str) and len(acct) == 12 and acct.isdigit()):
            acct = "000000000000"
        hexid = hashlib.sha256(n.encode()).hexdigest()[:16]
        key = "%s%s%03dZ_%s.json.gz" % (log_dir_key(b.prefix, acct, rec["region"], wt),
                                        wt.strftime("%Y%m%dT%H%M%S"), 0, hexid)
        data = gzip_bytes(line + b"\n")
        write_object(b.root, key, data)
        folder_hour = wt.strftime("%Y-%m-%dT%H")
        b.totals.add(rec, folder_hour, len(line))
        b.objects.append({"key": key, "records": 1, "bytes": len(data), "json_bytes": len(line) + 1,
                          "account": acct, "region": rec["region"], "folder_hour": folder_hour,
                          "source": n, "requestId": rec.get("requestId")})
    return b.manifest()


def fixtures_logs(root):
    seed = 42
    b = Bucket(os.path.join(root, "logs"), "logs", "bedrock/")
    accounts = ["111111111111", "222222222222"]
    regions = ["us-east-1", "eu-west-1"]
    start = dt.datetime(2026, 11, 1, 0)
    styles = {
        (1, 1, 1, 0): "multimember",
        (0, 0, 2, 1): "no-final-newline",
        (0, 1, 3, 2): "blank-lines",
    }
    generate(b, seed, start, 6, accounts, regions, 3, 1, 12, styles=styles)
    # guarantee at least one of each offload kind, in a known place
    rng = slot_rng(seed, "extras")
    wt = start + dt.timedelta(hours=4, minutes=30, seconds=12, milliseconds=345)
    b.log_object(rng, "111111111111", "us-east-1", wt, 3, forces=[
        {"op": "Converse", "error": False, "media": True, "offload_input": False, "offload_output": False},
        {"op": "InvokeModelWithResponseStream", "error": False, "offload_input": True, "offload_output": True,
         "new": True},
        {"op": "Converse", "error": False, "offload_input": True, "offload_output": False, "new": False},
    ])
    pre = "bedrock/AWSLogs/"
    for acct in accounts:
        b.other(pre + acct + "/BedrockModelInvocationLogs/amazon-bedrock-logs-permission-check", b"",
                "permission-check")
    b.other(pre + "111111111111/BedrockModelInvocationLogs/us-east-1/2026/11/01/02/amazon-bedrock-logs-permission-check",
            b"", "permission-check")
    b.other(pre + "111111111111/BedrockModelInvocationLogs/us-east-1/2026/11/01/03/20261101T031500000Z_0000000000000000.json.gz",
            b"", "zero-byte-log-name")
    ct = {"Records": [{"eventVersion": "1.08", "eventSource": "s3.amazonaws.com", "eventName": "PutObject",
                       "awsRegion": "us-east-1", "eventTime": "2026-11-01T00:10:00Z",
                       "userIdentity": {"type": "AWSService", "invokedBy": "bedrock.amazonaws.com"}}]}
    b.other(pre + "111111111111/CloudTrail/us-east-1/2026/11/01/x.json.gz",
            gzip_bytes(json.dumps(ct, separators=(",", ":")).encode() + b"\n"), "not-bedrock")
    b.other("bedrock/README.txt", b"Bedrock model invocation logs land here. Not a log file.\n", "readme")
    return b.manifest({"seed": seed, "accounts": accounts, "regions": regions,
                       "start": "2026-11-01T00", "hours": 6, "files_per_hour": 3,
                       "records_per_file": "1-12"})


def fixtures_pages(root):
    b = Bucket(os.path.join(root, "pages"), "pages", "p/", offload_rate=0.0, media_rate=0.0)
    rng = random.Random("pages/7")
    start = dt.datetime(2026, 11, 1, 0)
    n = 1205
    for i in range(n):
        wt = start + dt.timedelta(milliseconds=int(i * 86400000 / n) + 1500)
        b.log_object(rng, "111111111111", "us-east-1", wt, 1, max_delay=60)
    return b.manifest({"objects_expected": n})


BAD_DIR = "AWSLogs/111111111111/BedrockModelInvocationLogs/us-east-1/2026/11/01/00/"


def fixtures_bad(root):
    broot = os.path.join(root, "bad")
    gen = Gen("bad", "", 6, 0.0, 0.0)
    rng = random.Random("bad/3")
    cases = {}

    def rec(i, **force):
        ts = dt.datetime(2026, 11, 1, 0, 0, i % 60)
        f = {"error": False, "offload_input": False, "offload_output": False, "media": False}
        f.update(force)
        return gen.record(rng, "111111111111", "us-east-1", ts, [], f)

    def line(i, **force):
        return dumps(rec(i, **force), False)

    def put(case, data, expect, lines, bad_line, valid, note=""):
        """lines: lines in the decompressed object (None: unknown);
        bad_line: the line (from 1) that is not a valid record, if any;
        valid: how many lines are valid records."""
        key = "%s/%s20261101T000130000Z_%016x.json.gz" % (case, BAD_DIR, rng.getrandbits(64))
        write_object(broot, key, data)
        cases[case] = {"key": key, "bytes": len(data), "lines": lines, "bad_line": bad_line,
                       "valid_records": valid, "expect": expect}
        if note:
            cases[case]["note"] = note

    # valid gzip header, then a deflate block of reserved type 3 and garbage
    hdr = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"
    put("corrupt-gzip", hdr + b"\x07" + bytes(rng.getrandbits(8) for _ in range(2000)),
        "error: corrupt gzip data", 0, None, 0)
    whole = gzip_bytes(b"".join(line(i) + b"\n" for i in range(6)))
    put("truncated-gzip", whole[: len(whole) // 2], "error: gzip stream ends early", None, None, None,
        note="a valid 6-record gzip cut in half; some leading lines may decode before the error")
    put("bad-json", gzip_bytes(line(1) + b"\n" + line(2) + b"\n" +
                               b'{"timestamp": "2026-11-01T00:00:01Z", "accountId": \n'),
        "error: invalid JSON on line 3", 3, 3, 2)
    put("not-object", gzip_bytes(line(1) + b"\n[1,2,3]\n" + line(3) + b"\n"),
        "error: line 2 is not a JSON object", 3, 2, 2)
    r2 = rec(2)
    r2["modelId"] = "anthropic.claude-MARK-v1:0"
    bad = dumps(r2, False).replace(b"MARK", b"\xff\xfe")
    put("bad-utf8", gzip_bytes(line(1) + b"\n" + bad + b"\n"), "error: invalid UTF-8 on line 2", 2, 2, 1)
    put("plain", line(1) + b"\n" + line(2) + b"\n",
        "not gzip (no 1f 8b magic): plain NDJSON, either read as such or rejected", 2, None, 2)
    put("binary", b"\x00\x01BEDLOG" + bytes(rng.getrandbits(8) for _ in range(4096)),
        "error: not gzip and not JSON", 0, None, 0)
    r = rec(2)
    r["input"]["inputTokenCount"] = "12x"
    put("bad-int", gzip_bytes(line(1) + b"\n" + dumps(r, False) + b"\n"),
        "error or NULL: inputTokenCount is the string \"12x\" on line 2", 2, 2, 1)
    r = re.sub(rb'"inputTokenCount":\d+', b'"inputTokenCount":99999999999999999999', dumps(rec(1), False), count=1)
    put("big-int", gzip_bytes(r + b"\n" + line(2) + b"\n"),
        "error: inputTokenCount 99999999999999999999 on line 1 is out of range for bigint", 2, 1, 1)
    r = rec(1)
    r["timestamp"] = "yesterday"
    put("bad-ts", gzip_bytes(dumps(r, False) + b"\n" + line(2) + b"\n"),
        "error: timestamp \"yesterday\" on line 1", 2, 1, 1)
    r = dumps(rec(1, op="Converse"), False)
    deep = b"[" * 5000 + b"]" * 5000
    r = r.replace(b'"inputBodyJson":{', b'"inputBodyJson":{"deep":' + deep + b",", 1)
    put("deep", gzip_bytes(r + b"\n"),
        "valid JSON nesting 5,000 arrays in inputBodyJson: read it, or fail cleanly (no crash)", 1, None, 1)
    block = (" ".join(random.Random(9).choices(WORDS, k=3000))).encode("utf-8")
    reps = (20 * 1024 * 1024) // len(block) + 1
    big = (block * reps)[: 20 * 1024 * 1024].decode("utf-8", "ignore")
    r = rec(1, op="Converse")
    r["input"]["inputBodyJson"]["messages"][0]["content"][0]["text"] = big
    hl = dumps(r, False)
    put("huge-line", gzip_bytes(hl + b"\n"), "one valid record of ~20 MB", 1, None, 1,
        note="line length %d bytes" % len(hl))
    put("fault-404", gzip_bytes(line(1) + b"\n" + line(2) + b"\n"), "proxy answers 404 NoSuchKey", 2, None, 2)
    put("fault-500", gzip_bytes(line(1) + b"\n" + line(2) + b"\n"), "proxy answers 500 InternalError", 2, None, 2)
    put("fault-403", gzip_bytes(line(1) + b"\n"), "proxy answers 403 AccessDenied", 1, None, 1)
    put("fault-flaky", gzip_bytes(line(1) + b"\n" + line(2) + b"\n" + line(3) + b"\n"),
        "proxy answers 503 SlowDown twice, then the object", 3, None, 3)
    cut_lines = [line(i, op="Converse") for i in range(40)]
    put("fault-cut", gzip_bytes(b"\n".join(cut_lines) + b"\n", level=1),
        "proxy resets the connection half way through the first GET, then serves the object", 40, None, 40)
    put("fault-slowheaders", gzip_bytes(line(1) + b"\n"), "proxy waits before answering at all", 1, None, 1)
    lines = []
    size = 0
    i = 0
    while size < 200 * 1024:
        r = rec(i, op="Converse")
        r["requestMetadata"] = {"blob": base64.b64encode(bytes(rng.getrandbits(8) for _ in range(6000))).decode()}
        ln = dumps(r, False) + b"\n"
        lines.append(ln)
        size += len(ln) * 3 // 4
        i += 1
    data = gzip_bytes(b"".join(lines))
    put("fault-stall", data, "proxy sends headers and the first 1024 bytes, then stalls", len(lines), None, len(lines),
        note="%d records, %d bytes gzipped" % (len(lines), len(data)))
    # last: its records draw from the generator, and earlier cases stay as they were
    put("fault-changed", gzip_bytes(line(1) + b"\n" + line(2) + b"\n"),
        "proxy answers GETs with another ETag than the listing's (rewritten since listed)", 2, None, 2)
    return {"bucket": "bad", "cases": cases, "all_objects": len(cases)}


def fixtures_eu(root):
    b = Bucket(os.path.join(root, "eu-logs"), "eu-logs", "x/", offload_rate=0.0, media_rate=0.0)
    rng = random.Random("eu/5")
    start = dt.datetime(2026, 11, 1, 0)
    b.log_object(rng, "111111111111", "eu-west-1", start + dt.timedelta(minutes=20, milliseconds=111), 2)
    b.log_object(rng, "111111111111", "eu-west-1", start + dt.timedelta(minutes=40, milliseconds=222), 3)
    return b.manifest({"region": "eu-west-1"})


def fixtures_repart(root):
    """Bucket repart, prefix r/: logs re-partitioned by a user, in the layout
    model=${model_id}/op=${operation}/${yyyy}-${MM}-${dd}/part-NNNN.json.gz
    (models whose id holds no '/', two days)."""
    gen = Gen("repart", "r/", 6, 0.0, 0.0)
    rng = random.Random("repart/7")
    groups = {}
    start = dt.datetime(2026, 11, 1, 0)
    n = 0
    while n < 300:
        ts = start + dt.timedelta(seconds=rng.randrange(2 * 86400))
        rec = gen.record(rng, "111111111111", "us-east-1", ts, [],
                         {"offload_input": False, "offload_output": False, "media": False})
        if "/" in rec["modelId"]:
            continue
        day = ts.strftime("%Y-%m-%d")
        groups.setdefault((rec["modelId"], rec["operation"], day), []).append(rec)
        n += 1
    by_model_op = {}
    objects = 0
    for (model, op, day), recs in sorted(groups.items()):
        recs.sort(key=lambda r: r["timestamp"])
        key = "r/model=%s/op=%s/%s/part-0000.json.gz" % (model, op, day)
        write_object(os.path.join(root, "repart"), key,
                     gzip_bytes(b"".join(dumps(r, False) + b"\n" for r in recs)))
        objects += 1
        k = "%s|%s" % (model, op)
        by_model_op[k] = by_model_op.get(k, 0) + len(recs)
    return {"bucket": "repart", "prefix": "r/", "all_objects": objects, "log_objects": objects,
            "totals": {"records": n, "by_model_operation": by_model_op}}


def fixtures_bodies(root):
    """Buckets bodies and bodies-data: records whose bodies Bedrock offloaded
    to large-data objects (<hour folder>data/<requestId>_input.json.gz and
    _output.json.gz, each the gzipped body itself: an object, or the array of
    stream events), for resolve_large_bodies.  Locations in bucket bodies:
      good/     every kind of offload, all large-data objects present: input,
                output (object and stream array), both; one not gzipped (and
                pretty-printed over several lines), one in bucket bodies-data;
                one object of 40 records, more than a scan reads ahead
      missing/  two large-data objects absent, one of them in a bucket that
                does not exist
      corrupt/  one large-data object with corrupt gzip, one whose JSON is cut
    The manifest lists every large body with its URI and JSON (the reference
    the tests compare with)."""
    rng = random.Random("bodies/5")
    acct, region = "111111111111", "us-east-1"
    refs = []
    locations = {}

    def put(bucket, key, data):
        write_object(os.path.join(root, bucket), key, data)

    def log(loc, write_time, specs):
        """specs: (force, {"input"|"output": mode}) per record; mode gzip (the
        default), plain, other-bucket, absent, no-bucket, corrupt, cut."""
        prefix = loc + "/"
        gen = Gen("bodies", prefix, 6, 0.0, 0.0)
        key = log_dir_key(prefix, acct, region, write_time) + file_name(write_time, rng)
        lines = []
        offloaded = 0
        for i, (force, modes) in enumerate(specs):
            ts = (write_time - dt.timedelta(seconds=90 - i)).replace(microsecond=0)
            f = {"error": False, "media": False, "offload_input": False, "offload_output": False}
            f.update(force)
            sidecars = []
            rec = gen.record(rng, acct, region, ts, sidecars, f)
            for k, data in sidecars:
                kind = "input" if k.endswith("_input.json.gz") else "output"
                member = rec[kind][kind + "BodyS3Path"]
                mode = modes.get(kind, "gzip")
                body = json.loads(gzip.decompress(data).decode("utf-8"))
                bucket = "bodies"
                if mode == "plain":
                    data = json.dumps(body, indent=1, ensure_ascii=False).encode("utf-8") + b"\n"
                elif mode == "corrupt":
                    data = data[:10] + bytes(b ^ 0x5a for b in data[10:40]) + data[40:]
                elif mode == "cut":
                    data = gzip_bytes(json.dumps(body, separators=(",", ":")).encode("utf-8")[:200])
                elif mode == "other-bucket":
                    bucket = "bodies-data"
                elif mode == "no-bucket":
                    bucket = "bodies-gone"
                uri = "s3://%s/%s" % (bucket, k)
                rec[kind][kind + "BodyS3Path"] = uri
                assert member.endswith(k)
                if mode not in ("absent", "no-bucket"):
                    put(bucket, k, data)
                offloaded += 1
                refs.append({"location": loc, "requestId": rec["requestId"], "kind": kind,
                             "mode": mode, "uri": uri, "line": i + 1,
                             "body": body if mode in ("gzip", "plain", "other-bucket") else None})
            lines.append(dumps(rec, False) + b"\n")
        put("bodies", key, gzip_bytes(b"".join(lines)))
        l = locations.setdefault(loc, {"log_objects": 0, "records": 0, "offloaded_bodies": 0})
        l["log_objects"] += 1
        l["records"] += len(specs)
        l["offloaded_bodies"] += offloaded

    t = dt.datetime(2026, 11, 1, 10, 20, 0, 123000)
    conv, stream, invoke, cstream = ("Converse", "InvokeModelWithResponseStream", "InvokeModel",
                                     "ConverseStream")
    log("good", t, [
        ({"op": conv, "offload_input": True}, {}),
        ({"op": stream, "offload_input": True, "offload_output": True}, {}),
        ({"op": conv}, {}),
        ({"op": invoke, "offload_input": True}, {"input": "plain"}),
        ({"op": conv, "offload_input": True, "offload_output": True}, {"output": "other-bucket"}),
        ({"op": cstream, "offload_output": True}, {}),
        ({"op": stream, "offload_output": True}, {}),
    ])
    log("good", t + dt.timedelta(minutes=20), [
        ({"op": [conv, stream, invoke][i % 3], "offload_input": i % 3 == 1, "offload_output": i % 5 == 2}, {})
        for i in range(40)
    ])
    log("missing", t, [
        ({"op": conv, "offload_input": True}, {}),
        ({"op": conv, "offload_input": True}, {"input": "absent"}),
        ({"op": stream, "offload_output": True}, {"output": "no-bucket"}),
        ({"op": conv}, {}),
    ])
    log("corrupt", t, [
        ({"op": conv}, {}),
        ({"op": conv, "offload_input": True}, {"input": "corrupt"}),
        ({"op": conv}, {}),
        ({"op": conv, "offload_output": True}, {"output": "cut"}),
        ({"op": conv}, {}),
    ])
    nlogs = sum(l["log_objects"] for l in locations.values())
    ndata = sum(1 for r in refs if r["mode"] not in ("absent", "no-bucket"))
    return {"bucket": "bodies", "all_objects": nlogs + ndata, "log_objects": nlogs,
            "totals": {"records": sum(l["records"] for l in locations.values())},
            "locations": locations, "large_bodies": refs}


def fixtures_types(root, types_file):
    """Bucket types, prefix t/: the hand-written records of
    test/fixtures/types/types.ndjson (typed values, escapes, a blank line),
    as one gzipped object; and prefixes j/, jbad/ (below)."""
    with open(types_file, "rb") as f:
        data = f.read()
    key = "t/AWSLogs/111111111111/BedrockModelInvocationLogs/us-east-1/2026/11/01/00/" \
          "20261101T000010000Z_aaaaaaaaaaaaaaaa.json.gz"
    write_object(os.path.join(root, "types"), key, gzip_bytes(data))
    # prefixes j/ and jbad/: JSON values of every shape for the jsonb
    # columns (escapes, duplicate keys, numbers, nesting), and strings
    # jsonb cannot hold (sql/jsonb.sql)
    here = os.path.dirname(types_file)
    for prefix, name in (("j/", "jsonb.ndjson"), ("jbad/", "jsonb-bad.ndjson")):
        with open(os.path.join(here, name), "rb") as f:
            write_object(os.path.join(root, "types"), prefix + key[2:], gzip_bytes(f.read()))
    return {"bucket": "types", "all_objects": 3, "log_objects": 3,
            "totals": {"records": sum(1 for ln in data.splitlines() if ln.strip())}}


def fixtures_billing(root, billing_file):
    """Bucket billing, prefix b/: the hand-written records of
    test/fixtures/billing/billing.ndjson (every modelId form, cache counts,
    a failed call, a record just before midnight delivered after it), one
    object per record, written 30 seconds after its timestamp, in Bedrock's
    layout.  The pricing test's expected costs are worked out by hand from
    these records."""
    b = Bucket(os.path.join(root, "billing"), "billing", "b/")
    with open(billing_file, "rb") as f:
        lines = [ln for ln in f.read().splitlines() if ln.strip()]
    for i, line in enumerate(lines):
        rec = json.loads(line.decode("utf-8"))
        wt = dt.datetime.strptime(rec["timestamp"], "%Y-%m-%dT%H:%M:%SZ") + dt.timedelta(seconds=30)
        key = "%s%s000Z_%016x.json.gz" % (log_dir_key(b.prefix, rec["accountId"], rec["region"], wt),
                                          wt.strftime("%Y%m%dT%H%M%S"), i + 1)
        data = gzip_bytes(line + b"\n")
        write_object(b.root, key, data)
        folder_hour = wt.strftime("%Y-%m-%dT%H")
        b.totals.add(rec, folder_hour, len(line))
        b.objects.append({"key": key, "records": 1, "bytes": len(data), "json_bytes": len(line) + 1,
                          "account": rec["accountId"], "region": rec["region"], "folder_hour": folder_hour})
    return b.manifest()


def make_fixtures(root, examples_dir):
    os.makedirs(root, exist_ok=True)
    m = {"generator": "tools/genlogs.py --fixtures", "buckets": {}}
    m["buckets"]["examples"] = fixtures_examples(root, examples_dir)
    m["buckets"]["logs"] = fixtures_logs(root)
    m["buckets"]["pages"] = fixtures_pages(root)
    m["buckets"]["bad"] = fixtures_bad(root)
    m["buckets"]["eu-logs"] = fixtures_eu(root)
    m["buckets"]["repart"] = fixtures_repart(root)
    m["buckets"]["bodies"] = fixtures_bodies(root)
    m["buckets"]["types"] = fixtures_types(
        root, os.path.join(os.path.dirname(examples_dir.rstrip("/")), "types", "types.ndjson"))
    m["buckets"]["billing"] = fixtures_billing(
        root, os.path.join(os.path.dirname(examples_dir.rstrip("/")), "billing", "billing.ndjson"))
    os.makedirs(os.path.join(root, "empty"), exist_ok=True)
    m["buckets"]["empty"] = {"bucket": "empty", "all_objects": 0, "log_objects": 0,
                             "totals": {"records": 0}}
    with open(os.path.join(root, "fixtures.manifest.json"), "w") as f:
        json.dump(m, f, indent=1, ensure_ascii=False)
        f.write("\n")
    return m


# ---------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description="Generate realistic Bedrock model invocation logs.")
    ap.add_argument("--out", help="directory standing for the bucket; objects go to OUT/<key>")
    ap.add_argument("--fixtures", metavar="DIR", help="write the fixed test buckets to DIR/<bucket>/<key>")
    ap.add_argument("--examples", default=os.path.join(REPO, "test", "fixtures", "examples"),
                    help="real example records (with --fixtures)")
    ap.add_argument("--seed", default="1")
    ap.add_argument("--bucket", help="bucket name used in s3:// paths inside records (default: basename of --out)")
    ap.add_argument("--prefix", default="", help="key prefix before AWSLogs/ (e.g. bedrock/)")
    ap.add_argument("--start", default="2026-11-01T00")
    ap.add_argument("--hours", type=int, default=24)
    ap.add_argument("--accounts", default="111111111111,222222222222")
    ap.add_argument("--regions", default="us-east-1,eu-west-1")
    ap.add_argument("--files-per-hour", type=int, default=3)
    ap.add_argument("--records-per-file", default="1-12", help="MIN-MAX")
    ap.add_argument("--target-mb", type=float, help="generate until about N MB of uncompressed JSON")
    ap.add_argument("--big-object-mb", type=float, help="write one single huge log object of N MB (uncompressed)")
    ap.add_argument("--repeated-object-mb", type=float,
                    help="write one huge log object of N MB (uncompressed) of a few records repeated, fast")
    ap.add_argument("--gzip-level", type=int, default=1, help="gzip level of generated objects (fixtures use 6)")
    ap.add_argument("--offload-rate", type=float, default=0.01, help="share of records with an offloaded body")
    ap.add_argument("--manifest", help="manifest path (default: OUT/../<name>.manifest.json)")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()

    if a.fixtures:
        m = make_fixtures(a.fixtures, a.examples)
        if not a.quiet:
            for name, bm in m["buckets"].items():
                print("%-9s %5d objects  %6s records" % (name, bm.get("all_objects", 0),
                                                       bm.get("totals", {}).get("records", "-")))
        return
    if not a.out:
        ap.error("--out or --fixtures is required")
    out = os.path.abspath(a.out)
    name = a.bucket or os.path.basename(out.rstrip("/"))
    prefix = a.prefix
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    try:
        rmin, rmax = (int(x) for x in a.records_per_file.split("-")) if "-" in a.records_per_file \
            else (int(a.records_per_file),) * 2
    except ValueError:
        ap.error("--records-per-file wants MIN-MAX")
    if rmin < 1 or rmax < rmin:
        ap.error("--records-per-file wants 1 <= MIN <= MAX")
    accounts = [x for x in a.accounts.split(",") if x]
    regions = [x for x in a.regions.split(",") if x]
    start = parse_start(a.start)
    b = Bucket(out, name, prefix, a.gzip_level, a.offload_rate)
    os.makedirs(out, exist_ok=True)
    if a.big_object_mb:
        big_object(b, a.seed, start, accounts[0], regions[0], a.big_object_mb)
    elif a.repeated_object_mb:
        repeated_object(b, a.seed, start, accounts[0], regions[0], a.repeated_object_mb)
    else:
        target = int(a.target_mb * 1024 * 1024) if a.target_mb else None
        generate(b, a.seed, start, a.hours, accounts, regions, a.files_per_hour, rmin, rmax, target)
    m = b.manifest({"generator": "tools/genlogs.py", "seed": a.seed, "accounts": accounts, "regions": regions,
                    "start": start.strftime("%Y-%m-%dT%H"), "hours": a.hours, "files_per_hour": a.files_per_hour,
                    "records_per_file": "%d-%d" % (rmin, rmax)})
    mpath = a.manifest or os.path.join(os.path.dirname(out), name + ".manifest.json")
    ensure_parent(mpath)
    with open(mpath, "w") as f:
        json.dump(m, f, indent=1, ensure_ascii=False)
        f.write("\n")
    if not a.quiet:
        t = m["totals"]
        print("%s: %d log objects, %d data objects, %d records, %.1f MB JSON, manifest %s" % (
            out, m["log_objects"], m["data_objects_count"], t["records"], t["json_bytes"] / 1048576.0, mpath))


if __name__ == "__main__":
    main()
