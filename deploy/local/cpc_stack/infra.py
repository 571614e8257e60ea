"""Kafka, FerretDB and the mail catcher on loopback: fetched or built once, started, awaited, stopped.

If KAFKA_BOOTSTRAP_SERVERS or MONGODB_URL is set, that broker or store is used instead of starting one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from cpc_stack import processes
from cpc_stack.paths import CACHE, MAILDIR, PORT_OFFSET, REPO, RUN

KAFKA_VERSION = "4.4.0"
# v1.24.1 is the newest 1.24.x, but the Go module proxy reachable here refuses it; v1.24.0 is served.
FERRETDB_VERSION = "v1.24.0"
FERRETDB_MODULE = "github.com/FerretDB/FerretDB"

KAFKA_PORT, KAFKA_CONTROLLER_PORT = 39092 + PORT_OFFSET, 39093 + PORT_OFFSET
FERRETDB_PORT = 37017 + PORT_OFFSET
SMTP_PORT = 3025 + PORT_OFFSET
TOPIC_PARTITIONS = 3


@dataclass(frozen=True)
class Endpoints:
    kafka: str
    mongodb: str
    smtp_host: str
    smtp_port: int
    maildir: Path

    def env(self) -> dict[str, str]:
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka,
            "MONGODB_URL": self.mongodb,
            "CPC_SMTP_HOST": self.smtp_host,
            "CPC_SMTP_PORT": str(self.smtp_port),
            # The local store is FerretDB 1.x unless MONGODB_URL names another.
            "CPC_STORE_SEMANTICS": os.environ.get("CPC_STORE_SEMANTICS",
                                                  "mongodb" if "MONGODB_URL" in os.environ else "ferretdb1"),
        }


# The mail server on this machine may have been started from another checkout: it says where it delivers.
MAIL_SERVER_STATE = CACHE / f"mail-server-{SMTP_PORT}.json"


def endpoints() -> Endpoints:
    maildir = MAILDIR
    if MAIL_SERVER_STATE.exists() and processes.port_open("127.0.0.1", SMTP_PORT):
        maildir = Path(json.loads(MAIL_SERVER_STATE.read_text())["maildir"])
    return Endpoints(
        kafka=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{KAFKA_PORT}"),
        mongodb=os.environ.get("MONGODB_URL", f"mongodb://127.0.0.1:{FERRETDB_PORT}/"),
        smtp_host="127.0.0.1",
        smtp_port=SMTP_PORT,
        maildir=maildir,
    )


def say(message: str) -> None:
    print(f"[stack] {message}", flush=True)


# Kafka -----------------------------------------------------------------------------------------


def kafka_libs() -> Path:
    libs = CACHE / f"kafka-{KAFKA_VERSION}" / "libs"
    if any(libs.glob("kafka_2.13-*.jar")):
        return libs
    say(f"fetching Apache Kafka {KAFKA_VERSION} jars with Maven (once)")
    staging = libs.with_name("libs.partial")
    shutil.rmtree(staging, ignore_errors=True)
    subprocess.run(
        ["mvn", "-q", "-B", "-Dstyle.color=never", "-f", str(REPO / "deploy/local/kafka/pom.xml"), "dependency:copy-dependencies",
         "-DincludeScope=runtime", f"-DoutputDirectory={staging}"],
        check=True,
    )
    staging.rename(libs)
    return libs


def start_kafka() -> None:
    if processes.port_open("127.0.0.1", KAFKA_PORT):
        return
    libs = kafka_libs()
    home = RUN / "kafka"
    data = home / "data"
    config = home / "server.properties"
    home.mkdir(parents=True, exist_ok=True)
    config.write_text(
        "\n".join(
            [
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.voters=1@127.0.0.1:{KAFKA_CONTROLLER_PORT}",
                f"listeners=PLAINTEXT://127.0.0.1:{KAFKA_PORT},CONTROLLER://127.0.0.1:{KAFKA_CONTROLLER_PORT}",
                f"advertised.listeners=PLAINTEXT://127.0.0.1:{KAFKA_PORT}",
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                f"log.dirs={data}",
                "num.partitions=3",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=10",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "auto.create.topics.enable=false",
                "delete.topic.enable=true",
                "",
            ]
        )
    )
    classpath = f"{libs}/*"
    if not (data / "meta.properties").exists():
        cluster_id = subprocess.run(
            ["java", "-cp", classpath, "kafka.tools.StorageTool", "random-uuid"], check=True, capture_output=True, text=True
        ).stdout.strip().splitlines()[-1]
        subprocess.run(
            ["java", "-Xmx256m", "-cp", classpath, "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(config)],
            check=True, capture_output=True,
        )
    say(f"starting Kafka {KAFKA_VERSION} (KRaft, one node) on 127.0.0.1:{KAFKA_PORT}")
    processes.start(
        "kafka",
        ["java", "-Xms256m", "-Xmx768m", "-XX:+UseG1GC",
         f"-Dlog4j2.configurationFile={REPO / 'deploy/local/kafka/log4j2.yaml'}",
         "-cp", classpath, "kafka.Kafka", str(config)],
    )


# FerretDB --------------------------------------------------------------------------------------


# FerretDB 1.24's SQLite backend indexes `_id` as `_ferretdb_sqlite->"_id"` but looks documents up with
# `_ferretdb_sqlite->'$._id'`; SQLite uses an expression index only for the same expression, so every lookup
# by `_id` scanned the whole table (measured: 45 ms an update on 3,000 messages, growing with the collection).
# `->'_id'` means the same path and matches the index. The same mismatch is FerretDB issue #4646 (PostgreSQL).
ID_LOOKUP = ("IDColumn = DefaultColumn + \"->'$._id'\"", "IDColumn = DefaultColumn + \"->'_id'\"")

# FerretDB 1.24's SQLite backend hands SQLite a filter only when it is `_id` alone; any other filter reads the
# whole collection, though the backend may apply a filter partly (FerretDB filters every document it returns
# again, `backends.QueryParams`). So `_id` equal to a string, or `$in` a list of strings, beside other conditions
# (a conditional update `{_id, revision}`, a delete `{_id, conference_id}`) goes to SQLite too: the `_id` index
# finds the document, FerretDB checks the rest. The same upstream TODO: FerretDB issue #3235.
ID_PUSHDOWN = (
    """	if params.Filter.Len() == 1 {
		v, _ := params.Filter.Get("_id")
		switch v.(type) {
		case string, types.ObjectID:
			whereClause = fmt.Sprintf(` WHERE %s = ?`, metadata.IDColumn)
			args = []any{string(must.NotFail(sjson.MarshalSingleValue(v)))}
		}
	}
""",
    """	whereClause, args = idPushdown(params.Filter)
""",
)
ID_PUSHDOWN_FUNCTION = """
// idPushdown is the part of filter SQLite applies: `_id` equal to a string or ObjectID, or `$in` a list of them.
func idPushdown(filter *types.Document) (string, []any) {
	ids := 0
	for _, key := range filter.Keys() { // Get panics on a key given twice
		if key == "_id" {
			ids++
		}
	}
	if ids != 1 {
		return "", nil
	}
	scalar := func(v any) (any, bool) {
		switch v.(type) {
		case string, types.ObjectID:
			return string(must.NotFail(sjson.MarshalSingleValue(v))), true
		}
		return nil, false
	}
	v := must.NotFail(filter.Get("_id"))
	if arg, ok := scalar(v); ok {
		return fmt.Sprintf(` WHERE %s = ?`, metadata.IDColumn), []any{arg}
	}
	doc, ok := v.(*types.Document)
	if !ok || doc.Len() != 1 || doc.Keys()[0] != "$in" {
		return "", nil
	}
	in, ok := must.NotFail(doc.Get("$in")).(*types.Array)
	if !ok || in.Len() == 0 || in.Len() > 500 {
		return "", nil
	}
	args := make([]any, 0, in.Len())
	for i := range in.Len() {
		arg, ok := scalar(must.NotFail(in.Get(i)))
		if !ok {
			return "", nil
		}
		args = append(args, arg)
	}
	return fmt.Sprintf(` WHERE %s IN (?%s)`, metadata.IDColumn, strings.Repeat(", ?", len(args)-1)), args
}
"""


def ferretdb_binary() -> Path:
    binary = CACHE / "bin" / f"ferretdb-{FERRETDB_VERSION}-id-pushdown"
    if binary.exists():
        return binary
    say(f"building FerretDB {FERRETDB_VERSION} with go install (once, a few minutes)")
    downloaded = subprocess.run(
        ["go", "mod", "download", "-json", f"{FERRETDB_MODULE}@{FERRETDB_VERSION}"],
        check=True, capture_output=True, text=True,
    )
    module_dir = Path(json.loads(downloaded.stdout)["Dir"])
    # The module cache is read-only and FerretDB embeds its version from build/version/version.txt,
    # which its release process writes; so build from a writable copy with that file filled in.
    source = CACHE / "src" / f"ferretdb-{FERRETDB_VERSION}"
    shutil.rmtree(source, ignore_errors=True)
    shutil.copytree(module_dir, source)
    for path in [source, *source.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o200)
    (source / "build/version/version.txt").write_text(FERRETDB_VERSION + "\n")
    metadata = source / "internal/backends/sqlite/metadata/metadata.go"
    code = metadata.read_text()
    if ID_LOOKUP[0] not in code:
        raise RuntimeError(f"FerretDB {FERRETDB_VERSION}: the _id lookup to patch was not found in {metadata}")
    metadata.write_text(code.replace(*ID_LOOKUP))
    collection = source / "internal/backends/sqlite/collection.go"
    code = collection.read_text()
    if ID_PUSHDOWN[0] not in code:
        raise RuntimeError(f"FerretDB {FERRETDB_VERSION}: the _id pushdown to patch was not found in {collection}")
    collection.write_text(code.replace(*ID_PUSHDOWN) + ID_PUSHDOWN_FUNCTION)
    gobin = CACHE / "bin" / "partial"
    gobin.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["go", "install", "-ldflags=-checklinkname=0", "./cmd/ferretdb"],
        check=True, cwd=source, env={**os.environ, "GOBIN": str(gobin), "GOFLAGS": "-buildvcs=false"},
    )
    (gobin / "ferretdb").rename(binary)
    return binary


STORE_WORK = ("find", "getMore", "insert", "update", "delete", "count", "aggregate", "findAndModify")


def store_operations() -> int | None:
    """Reads and writes the local FerretDB has served so far (its own counters, on its debug address); None when
    the store is another (MONGODB_URL) or does not say."""
    if "MONGODB_URL" in os.environ:
        return None
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{FERRETDB_PORT + 1}/debug/metrics", timeout=5) as response:
            text = response.read().decode()
    except OSError:
        return None
    total = 0
    for line in text.splitlines():
        if line.startswith("ferretdb_client_requests_total{") and any(f'command="{c}"' in line for c in STORE_WORK):
            total += int(float(line.rsplit(" ", 1)[1]))
    return total


def start_ferretdb() -> None:
    if processes.port_open("127.0.0.1", FERRETDB_PORT):
        return
    binary = ferretdb_binary()
    data = RUN / "ferretdb"
    data.mkdir(parents=True, exist_ok=True)
    say(f"starting FerretDB {FERRETDB_VERSION} (SQLite backend) on 127.0.0.1:{FERRETDB_PORT}")
    processes.start(
        "ferretdb",
        # WAL with synchronous=normal: a crashed process loses nothing, a power cut the last commits
        # (a development store); FerretDB's default, synchronous=full, waits for the disk on every write.
        [str(binary), "--handler=sqlite", f"--sqlite-url=file:{data}/?_pragma=synchronous(normal)", f"--listen-addr=127.0.0.1:{FERRETDB_PORT}",
         f"--state-dir={data}", "--telemetry=disable", "--log-level=warn", f"--debug-addr=127.0.0.1:{FERRETDB_PORT + 1}"],
    )


# Mail catcher ----------------------------------------------------------------------------------


def start_smtp() -> None:
    if processes.port_open("127.0.0.1", SMTP_PORT):
        return
    for folder in ("cur", "new", "tmp"):  # a Maildir, read back by the tests and the demo
        (MAILDIR / folder).mkdir(parents=True, exist_ok=True)
    say(f"starting a local mail server on 127.0.0.1:{SMTP_PORT}, delivering to {MAILDIR}")
    processes.start(
        "smtp",
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{SMTP_PORT}", "-c", "cpc_stack.mailcatcher.IndexedMaildir", str(MAILDIR)],
    )
    CACHE.mkdir(parents=True, exist_ok=True)
    MAIL_SERVER_STATE.write_text(json.dumps({"port": SMTP_PORT, "maildir": str(MAILDIR)}))


# Topics ----------------------------------------------------------------------------------------


async def _ensure_topics(bootstrap: str, recreate: bool) -> None:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from cpc_shared.contracts import Topics

    wanted = Topics.created()
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        if recreate and existing & set(wanted):
            await admin.delete_topics([name for name in wanted if name in existing])
            for _ in range(100):
                if not set(await admin.list_topics()) & set(wanted):
                    break
                await asyncio.sleep(0.2)
            existing = set(await admin.list_topics())
        missing = [name for name in wanted if name not in existing]
        if missing:
            await admin.create_topics([NewTopic(name, TOPIC_PARTITIONS, 1) for name in missing])
    finally:
        await admin.close()


def ensure_topics(recreate: bool = False) -> None:
    asyncio.run(_ensure_topics(endpoints().kafka, recreate))


async def _kafka_answers(bootstrap: str) -> bool:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await admin.start()
        await admin.list_topics()
        return True
    except Exception:
        return False
    finally:
        await admin.close()


def _mongo_answers(url: str) -> bool:
    from pymongo import MongoClient

    try:
        with MongoClient(url, serverSelectionTimeoutMS=1000) as client:
            client.admin.command("ping")
        return True
    except Exception:
        return False


# The whole stack -------------------------------------------------------------------------------


def contact_key() -> str:
    """The local key that encrypts contact details (and the family's words) at rest (made once per checkout)."""
    return _fernet_key("contact.key")


def family_link_key() -> str:
    """The local key that signs and encrypts the family's links to their form (made once per checkout)."""
    return _fernet_key("family-link.key")


def _fernet_key(name: str) -> str:
    path = RUN / name
    if not path.exists():
        from cryptography.fernet import Fernet

        RUN.mkdir(parents=True, exist_ok=True)
        path.write_text(Fernet.generate_key().decode())
        path.chmod(0o600)
    return path.read_text().strip()


def staff_token_secret() -> str:
    """The local key that signs and verifies staff and agency tokens (made once per checkout)."""
    path = RUN / "staff-token.key"
    if not path.exists():
        import secrets

        RUN.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def up(recreate_topics: bool = False) -> Endpoints:
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # "unable to connect" while Kafka starts
    if "KAFKA_BOOTSTRAP_SERVERS" not in os.environ:
        start_kafka()
    if "MONGODB_URL" not in os.environ:
        start_ferretdb()
    start_smtp()
    found = endpoints()
    processes.wait_until(lambda: asyncio.run(_kafka_answers(found.kafka)), "Kafka", 120, None)
    processes.wait_until(lambda: _mongo_answers(found.mongodb), "the document store", 60, None)
    processes.wait_until(lambda: processes.port_open(found.smtp_host, found.smtp_port), "the mail server", 30, "smtp")
    ensure_topics(recreate=recreate_topics)
    say(f"Kafka {found.kafka} · store {found.mongodb} · mail smtp://{found.smtp_host}:{found.smtp_port} -> {found.maildir}")
    return found


def down() -> None:
    for name in ("smtp", "ferretdb", "kafka"):
        if processes.stop(name, timeout=30):
            say(f"stopped {name}")
