"""Native service stack of the streaming backbone: Kafka, PostgreSQL, Elasticsearch, Adminer,
Prometheus.

Runs with the standard library only (it runs before any virtualenv exists) and
must run as root (it creates system users and starts services as them).

    python3 -m stack up             # provision on first use, start, wait until healthy
    python3 -m stack status         # one line per service (per Kafka node)
    python3 -m stack down           # stop everything this tool started
    python3 -m stack clean          # down + wipe data and logs (keeps downloads)
    python3 -m stack start|stop NAME  # one service: kafka, kafka-N, postgresql, elasticsearch,
                                      # adminer, prometheus
    python3 -m stack pid NAME       # the pid of a service's server process
    python3 -m stack logs-dir       # print where the logs are
    python3 -m stack metrics-token-file  # the token Prometheus scrapes with (METRICS_TOKEN_FILE)

Every service listens on 127.0.0.1. Ports come from the application's own
environment variables (defaults in brackets): KAFKA_BOOTSTRAP_SERVERS
[127.0.0.1:9092], KAFKA_CONTROLLER_PORT [9093], POSTGRES_PORT [5432],
POSTGRES_USER [user], POSTGRES_PASSWORD [password], POSTGRES_DB [streaming_db],
ELASTICSEARCH_HOST [http://127.0.0.1:9200], API_PORT [8000] (the worker
Prometheus scrapes), and the stack's own ADMINER_PORT [8081], PROMETHEUS_PORT
[9090] and KAFKA_BROKERS [1] (1 or 3: a three-node KRaft cluster; node N's
ports are the N-th address of KAFKA_BOOTSTRAP_SERVERS and the N-th entry of a
comma-separated KAFKA_CONTROLLER_PORT, or else the first ones plus 2 * (N - 1):
9092/9093, 9094/9095, 9096/9097).

All service files live outside the checkout (CI may clone it into a directory the
service users cannot traverse), under STACK_HOME [/var/lib/streaming-stack]:

    downloads/elasticsearch-<v>.zip   download cache (kept by `clean`)
    build/kafka/                      Maven build of the broker classpath (kept)
    kafka/libs/                       broker classpath, from stack/kafka/pom.xml (kept)
    kafka/config/                     server.properties, log4j2.properties   (one broker)
    kafka/data/                       KRaft metadata and topic logs          (one broker)
    kafka/kafka.pid                                                          (one broker)
    kafka/node-N/{config,data,kafka.pid}  the same for node N of a three-broker cluster
    elasticsearch/elasticsearch-<v>/  unzipped distribution (kept), owned by streaming-es
    elasticsearch/config/             ES_PATH_CONF: elasticsearch.yml, jvm.options.d/
    elasticsearch/{data,logs,tmp,run}/  data, ES's own log files, ES_TMPDIR, pid files
    postgres/data/                    initdb cluster, owned by postgres
    postgres/run/                     unix socket directory
    adminer/www/index.php             Adminer preset to our PostgreSQL (rewritten by `up`)
    adminer/{sessions,tmp}/           PHP sessions and Adminer's files, owned by streaming-adminer
    adminer/adminer.pid
    prometheus/config/                prometheus.yml, alerts.yml (copied from ops/prometheus/ by
                                      every `up`), targets/*.json (file_sd: the worker, itself)
    prometheus/config/secrets/metrics-token  the token Prometheus presents (kept by `clean`)
    prometheus/data/                  the time-series database, owned by prometheus
    prometheus/prometheus.pid
    logs/kafka.log                    broker log (log4j2), kafka.out: JVM console
                                      (kafka-N.log, kafka-N.out for node N of a cluster)
    logs/elasticsearch.log            Elasticsearch console output
    logs/postgres.log                 PostgreSQL server log
    logs/adminer.log                  PHP's built-in server log
    logs/prometheus.log               Prometheus' log
    logs/maven.log, logs/apt.log      provisioning output

Kafka runs as root, Elasticsearch as the system user `streaming-es`, PostgreSQL
as `postgres` (Debian's package), Adminer as `streaming-adminer` (Debian's
adminer and PHP packages), Prometheus as `prometheus` (Debian's prometheus
package, promtool included); missing Debian packages are installed with apt-get.

One module per service (kafka_broker, postgres_server, elasticsearch_node,
adminer_server, prometheus_server) implements service.Service; processes holds the process
helpers, settings the environment, tools the prerequisites, cli the commands.
"""
