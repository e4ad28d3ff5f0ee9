// Test helper for the Kafka tests (no broker to install): librdkafka's mock cluster,
// which speaks the real protocol on loopback TCP (consumer groups, offset commits,
// idempotent producers), and a producer to feed it.
//
//   kafka_mock serve TOPIC:PARTITIONS...
//       starts a 3-broker mock cluster with these topics, prints its bootstrap servers
//       on one line and stays up until stdin closes. Reads commands on stdin, answering
//       each with one line ("ok" or "error ..."):
//         down BROKER|all   the broker (id 1..3) drops its connections and refuses new ones
//         up BROKER|all     it accepts connections again
//         fail-produce ERROR COUNT
//                           the next COUNT Produce requests are answered with the
//                           Kafka error code ERROR (e.g. 29, topic authorization failed)
//   kafka_mock produce BOOTSTRAP TOPIC PARTITION FILE [LINES_PER_MESSAGE]
//       produces FILE's lines to one partition, LINES_PER_MESSAGE lines per message
//       (default 200), each message starting with FILE's first line when it is an AWS
//       header (a text batch as Firehose or Vector would send). Waits for every
//       delivery report; exits 1 if any failed.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace {
int failures = 0;

void delivered(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  if (m->err) ++failures;
}

int serve(int argc, char** argv) {
  char why[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // This client only hosts the cluster: it connects nowhere, so its warning is noise.
  rd_kafka_conf_set(conf, "log_level", "3", why, sizeof why);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
  if (!rk) {
    std::fprintf(stderr, "kafka_mock: %s\n", why);
    return 2;
  }
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(rk, 3);
  if (!cluster) {
    std::fprintf(stderr, "kafka_mock: cannot start the mock cluster\n");
    return 2;
  }
  for (int i = 0; i < argc; ++i) {
    const std::string spec = argv[i];
    const auto colon = spec.find(':');
    const int partitions = colon == std::string::npos ? 1 : std::atoi(spec.c_str() + colon + 1);
    if (rd_kafka_mock_topic_create(cluster, spec.substr(0, colon).c_str(), partitions, 1)) {
      std::fprintf(stderr, "kafka_mock: cannot create topic %s\n", spec.c_str());
      return 2;
    }
  }
  std::printf("%s\n", rd_kafka_mock_cluster_bootstraps(cluster));
  std::fflush(stdout);
  std::string line;
  while (std::getline(std::cin, line)) {
    const auto space = line.find(' ');
    const std::string verb = line.substr(0, space), which = space == std::string::npos ? "" : line.substr(space + 1);
    if (verb == "fail-produce") {
      const auto err = static_cast<rd_kafka_resp_err_t>(std::atoi(which.c_str()));
      const auto second = which.find(' ');
      const std::size_t count = second == std::string::npos ? 1 : std::strtoul(which.c_str() + second + 1, nullptr, 10);
      const std::vector<rd_kafka_resp_err_t> errors(count, err);
      rd_kafka_mock_push_request_errors_array(cluster, 0 /* Produce */, errors.size(), errors.data());
      std::printf("ok\n");
    } else if (verb != "down" && verb != "up") {
      std::printf("error unknown command\n");
    } else {
      bool ok = true;
      for (int broker = 1; broker <= 3; ++broker) {
        if (which != "all" && which != std::to_string(broker)) continue;
        const auto err = verb == "down" ? rd_kafka_mock_broker_set_down(cluster, broker)
                                        : rd_kafka_mock_broker_set_up(cluster, broker);
        ok = ok && err == RD_KAFKA_RESP_ERR_NO_ERROR;
      }
      std::printf(ok ? "ok\n" : "error\n");
    }
    std::fflush(stdout);
  }
  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(rk);
  return 0;
}

int produce(const std::string& bootstrap, const std::string& topic, int partition, const std::string& path,
            std::size_t lines_per_message) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "kafka_mock: cannot read %s\n", path.c_str());
    return 2;
  }
  char why[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), why, sizeof why) ||
      rd_kafka_conf_set(conf, "enable.idempotence", "true", why, sizeof why)) {
    std::fprintf(stderr, "kafka_mock: %s\n", why);
    return 2;
  }
  rd_kafka_conf_set_dr_msg_cb(conf, delivered);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
  if (!rk) {
    std::fprintf(stderr, "kafka_mock: %s\n", why);
    return 2;
  }
  std::string header, line, message;
  std::size_t lines = 0, messages = 0;
  const auto send = [&] {
    if (lines == 0) return;
    while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
                             RD_KAFKA_V_VALUE(message.data(), message.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(rk, 100);
    }
    rd_kafka_poll(rk, 0);
    ++messages;
    message = header;
    lines = 0;
  };
  bool first = true;
  while (std::getline(in, line)) {
    if (first && line.rfind("version ", 0) == 0) {
      header = line + "\n";
      message = header;
      first = false;
      continue;
    }
    first = false;
    message += line;
    message += '\n';
    if (++lines == lines_per_message) send();
  }
  send();
  rd_kafka_flush(rk, 30000);
  rd_kafka_destroy(rk);
  std::printf("%zu messages\n", messages);
  return failures ? 1 : 0;
}
}  // namespace

int main(int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "";
  if (command == "serve") return serve(argc - 2, argv + 2);
  if (command == "produce" && (argc == 6 || argc == 7))
    return produce(argv[2], argv[3], std::atoi(argv[4]), argv[5], argc == 7 ? std::strtoul(argv[6], nullptr, 10) : 200);
  std::fprintf(stderr,
               "usage: kafka_mock serve TOPIC:PARTITIONS...\n"
               "       kafka_mock produce BOOTSTRAP TOPIC PARTITION FILE [LINES_PER_MESSAGE]\n");
  return 2;
}
