# workerd config for the conformance twin (conformance/worker.js).
#
# localDisk storage: SQLite-backed Durable Objects, the default on the platform. run.py passes
#   --directory-path do-storage=<temp dir>  and  --socket-addr http=127.0.0.1:0 --control-fd N
# so the data lives in a fresh temp dir and workerd binds a free loopback port.
#
# The compatibility date is the one scenarios.py gives the emulator (COMPATIBILITY_DATE there).
#
# The compatibility-date matrix: the same worker.js also runs as one service per date in DATES
# below, each with its own Durable Object namespaces (unique keys end in the date) and reached from
# the main Worker at /at/<date>/... (a service binding AT_<date>). The dates are each side of the
# days on which a behaviour flips: 2026-02-24 delete_all_deletes_alarm, 2026-03-17
# websocket_standard_binary_type, 2026-04-07
# web_socket_auto_reply_to_close, 2026-10-01 durable_object_io_tasks_prevent_eviction.
# scenarios.py's COMPAT_DATES lists the same dates.

using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "at-2026-02-23", worker = .worker20260223),
    (name = "at-2026-02-24", worker = .worker20260224),
    (name = "at-2026-03-16", worker = .worker20260316),
    (name = "at-2026-03-17", worker = .worker20260317),
    (name = "at-2026-04-06", worker = .worker20260406),
    (name = "at-2026-04-07", worker = .worker20260407),
    (name = "at-2026-09-30", worker = .worker20260930),
    (name = "at-2026-10-01", worker = .worker20261001),
    (name = "do-storage", disk = (path = "conformance-do-storage", writable = true)),
  ],
  sockets = [
    (name = "http", address = "127.0.0.1:0", http = (), service = "main"),
  ],
);

const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
  ],
  compatibilityDate = "2026-11-17",
  bindings = [
    (name = "TEST", durableObjectNamespace = "TestDO"),
    (name = "OTHER", durableObjectNamespace = "OtherDO"),
    (name = "NOALARM", durableObjectNamespace = "NoAlarmDO"),
    (name = "CTOR", durableObjectNamespace = "CtorDO"),
    (name = "SELF", service = "main"),
    (name = "CONFB", durableObjectNamespace = "ConfBDO"),
    (name = "AT_2026_02_23", service = "at-2026-02-23"),
    (name = "AT_2026_02_24", service = "at-2026-02-24"),
    (name = "AT_2026_03_16", service = "at-2026-03-16"),
    (name = "AT_2026_03_17", service = "at-2026-03-17"),
    (name = "AT_2026_04_06", service = "at-2026-04-06"),
    (name = "AT_2026_04_07", service = "at-2026-04-07"),
    (name = "AT_2026_09_30", service = "at-2026-09-30"),
    (name = "AT_2026_10_01", service = "at-2026-10-01"),
  ],
  durableObjectNamespaces = [
    (className = "TestDO", uniqueKey = "oracle-test-do", enableSql = true),
    (className = "OtherDO", uniqueKey = "oracle-other-do", enableSql = true),
    (className = "NoAlarmDO", uniqueKey = "conformance-noalarm-do", enableSql = true),
    (className = "CtorDO", uniqueKey = "conformance-ctor-do", enableSql = true),
    (className = "ConfBDO", uniqueKey = "conformance-confb-do", enableSql = true),
  ],
  durableObjectStorage = (localDisk = "do-storage"),
);

const worker20260223 :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = "2026-02-23",
  bindings = [
    (name = "TEST", durableObjectNamespace = "TestDO"),
    (name = "CONFB", durableObjectNamespace = "ConfBDO"),
    (name = "SELF", service = "at-2026-02-23"),
  ],
  durableObjectNamespaces = [
    (className = "TestDO", uniqueKey = "conformance-test-do-2026-02-23", enableSql = true),
    (className = "ConfBDO", uniqueKey = "conformance-confb-do-2026-02-23", enableSql = true),
  ],
  durableObjectStorage = (localDisk = "do-storage"),
);

const worker20260224 :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = "2026-02-24",
  bindings = [
    (name = "TEST", durableObjectNamespace = "TestDO"),
    (name = "CONFB", durableObjectNamespace = "ConfBDO"),
    (name = "SELF", service = "at-2026-02-24"),
  ],
  durableObjectNamespaces = [
    (className = "TestDO", uniqueKey = "conformance-test-do-2026-02-24", enableSql = true),
    (className = "ConfBDO", uniqueKey = "conformance-confb-do-2026-02-24", enableSql = true),
  ],
  durableObjectStorage = (localDisk = "do-storage"),
);

const worker20260406 :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = "2026-04-06",
  bindings = [
    (name = "TEST", durableObjectNamespace = "TestDO"),
    (name = "CONFB", durableObjectNamespace = "ConfBDO"),
    (name = "SELF", service = "at-2026-04-06"),
  ],
  durableObjectNamespaces = [
    (className = "TestDO", uniqueKey = "conformance-test-do-2026-04-06", enableSql = true),
    (className = "ConfBDO", uniqueKey = "conformance-confb-do-2026-04-06", enableSql = true),
  ],
  durableObjectStorage = (localDisk = "do-storage"),
);

const worker20260407 :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = "2026-04-07",
  bindings = [
    (name = "TEST", durableObjectNamespace = "TestDO"),
    (name = "CONFB", durableObjectNamespace = "ConfBDO"),
    (name = "SELF", service = "at-2026-04-07"),
  ],
  durableObjectNamespaces = [
    (className = "TestDO", uniqueKey = "conformance-test-do-2026-04-07", enableSql = true),
    (className = "ConfBDO", uniqueKey = "conformance-confb-do-2026-04-07", enableSql = true),
  ],
  durableObjectStorage = (localDisk = "do-storage"),
);

const worker20260930 :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = "2026-09-30",
  bindings = [
    (name = "TEST", durableObjectNamespace = "TestDO"),
    (name = "CONFB", durableObjectNamespace = "ConfBDO"),
    (name = "SELF", service = "at-2026-09-30"),
  ],
  durableObjectNamespaces = [
    (className = "TestDO", uniqueKey = "conformance-test-do-2026-09-30", enableSql = true),
    (className = "ConfBDO", uniqueKey = "conformance-confb-do-2026-09-30", enableSql = true),
  ],
  durableObjectStorage = (localDisk = "do-storage"),
);

const worker20261001 :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = "2026-10-01",
  bindings = [
    (name = "TEST", durableObjectNamespace = "TestDO"),
    (name = "CONFB", durableObjectNamespace = "ConfBDO"),
    (name = "SELF", service = "at-2026-10-01"),
  ],
  durableObjectNamespaces = [
    (className = "TestDO", uniqueKey = "conformance-test-do-2026-10-01", enableSql = true),
    (className = "ConfBDO", uniqueKey = "conformance-confb-do-2026-10-01", enableSql = true),
  ],
  durableObjectStorage = (localDisk = "do-storage"),
);

const worker20260316 :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = "2026-03-16",
  bindings = [
    (name = "TEST", durableObjectNamespace = "TestDO"),
    (name = "CONFB", durableObjectNamespace = "ConfBDO"),
    (name = "SELF", service = "at-2026-03-16"),
  ],
  durableObjectNamespaces = [
    (className = "TestDO", uniqueKey = "conformance-test-do-2026-03-16", enableSql = true),
    (className = "ConfBDO", uniqueKey = "conformance-confb-do-2026-03-16", enableSql = true),
  ],
  durableObjectStorage = (localDisk = "do-storage"),
);

const worker20260317 :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = "2026-03-17",
  bindings = [
    (name = "TEST", durableObjectNamespace = "TestDO"),
    (name = "CONFB", durableObjectNamespace = "ConfBDO"),
    (name = "SELF", service = "at-2026-03-17"),
  ],
  durableObjectNamespaces = [
    (className = "TestDO", uniqueKey = "conformance-test-do-2026-03-17", enableSql = true),
    (className = "ConfBDO", uniqueKey = "conformance-confb-do-2026-03-17", enableSql = true),
  ],
  durableObjectStorage = (localDisk = "do-storage"),
);
