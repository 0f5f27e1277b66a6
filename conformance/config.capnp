# workerd config for the conformance twin (conformance/worker.js).
#
# localDisk storage: SQLite-backed Durable Objects, the default on the platform. run.py passes
#   --directory-path do-storage=<temp dir>  and  --socket-addr http=127.0.0.1:0 --control-fd N
# so the data lives in a fresh temp dir and workerd binds a free loopback port.
#
# The compatibility date is the one scenarios.py gives the emulator (COMPATIBILITY_DATE there).

using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
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
  ],
  durableObjectNamespaces = [
    (className = "TestDO", uniqueKey = "oracle-test-do", enableSql = true),
    (className = "OtherDO", uniqueKey = "oracle-other-do", enableSql = true),
    (className = "NoAlarmDO", uniqueKey = "conformance-noalarm-do", enableSql = true),
    (className = "CtorDO", uniqueKey = "conformance-ctor-do", enableSql = true),
  ],
  durableObjectStorage = (localDisk = "do-storage"),
);
