#include "app/KafkaRunCommand.hpp"

#include <signal.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "transport/KafkaSourceConfig.hpp"

#ifdef FLOWLIER_KAFKA
#include <ctime>
#include <memory>

#include <zmq.hpp>

#include "app/PartitionEngines.hpp"
#include "service/RunMetrics.hpp"
#include "service/SinkBridge.hpp"
#include "transport/KafkaSource.hpp"
#include "transport/KafkaStateStore.hpp"
#include "transport/MetricsServer.hpp"
#include "transport/PrometheusText.hpp"
#include "transport/ZmqPublisher.hpp"
#endif

namespace flowlier::app {

bool has_kafka_source(const core::ConfigDocument& config, std::string& error) {
  auto loaded = transport::read_kafka_source_config(config);
  error = loaded.error;
  return loaded.config.has_value() || !error.empty();
}

#ifdef FLOWLIER_KAFKA
namespace {
constexpr std::size_t kMessagesPerPoll = 1000;

std::string render(const KafkaStatus& s, const service::SinkBridge& sinks) {
  transport::PrometheusText t;
  t.gauge("flowlier_kafka_assigned_partitions", "Partitions this member owns now", static_cast<double>(s.partitions.size()));
  t.counter("flowlier_kafka_rebalances_total", "Rebalance callbacks (assign and revoke)", static_cast<double>(s.rebalances));
  t.counter("flowlier_kafka_checkpoints_total", "Partition checkpoints stored", static_cast<double>(s.checkpoints));
  t.counter("flowlier_kafka_partitions_restored_total", "Partitions assigned with a checkpoint to continue from",
            static_cast<double>(s.restored));
  t.counter("flowlier_kafka_checkpoint_failures_total", "Partition checkpoints not stored (offsets not committed)",
            static_cast<double>(s.checkpoint_failures));
  t.counter("flowlier_kafka_commit_failures_total", "Offset commits refused", static_cast<double>(s.commit_failures));
  t.counter("flowlier_kafka_consumer_errors_total", "Consumer errors reported by librdkafka",
            static_cast<double>(s.consumer_errors));
  t.counter("flowlier_rejected_total", "Rejected lines and records", static_cast<double>(s.rejected));
  t.counter("flowlier_kafka_unknown_format_total", "Messages in no known format", static_cast<double>(s.unknown_format));
  t.counter("flowlier_events_published_total", "Events published", static_cast<double>(s.events));
  t.counter("flowlier_kafka_idle_advances_total",
            "Close points a partition's engine moved by the idle timeout (service.idle_seconds)",
            static_cast<double>(s.idle_advances));
  // Partitions are a bounded label set (the topic's partition count).
  const auto family = [&](const char* name, const char* help, bool counter, auto value) {
    std::vector<std::pair<std::string, double>> v;
    for (const auto& p : s.partitions) v.emplace_back(p.name, static_cast<double>(value(p)));
    if (counter) t.counter_family(name, help, "partition", v);
    else t.gauge_family(name, help, "partition", v);
  };
  family("flowlier_kafka_partition_records_total", "Records decoded, by partition (this owner)", true,
         [](const PartitionStatus& p) { return p.records; });
  family("flowlier_kafka_partition_offset", "The next offset to read (what the engine has taken in)", false,
         [](const PartitionStatus& p) { return p.next_offset; });
  family("flowlier_kafka_partition_checkpoint_offset", "The offset the last durable checkpoint covers", false,
         [](const PartitionStatus& p) { return p.checkpoint_offset; });
  family("flowlier_kafka_partition_lag", "Messages behind the partition's high watermark", false,
         [](const PartitionStatus& p) { return p.lag; });
  family("flowlier_kafka_partition_checkpoint_age_seconds", "Since the partition's last checkpoint", false,
         [](const PartitionStatus& p) { return p.checkpoint_age_seconds; });
  family("flowlier_kafka_partition_checkpoint_bytes", "Size of the partition's last checkpoint", false,
         [](const PartitionStatus& p) { return p.checkpoint_bytes; });
  family("flowlier_kafka_partition_entities", "Entities in the partition's engine", false,
         [](const PartitionStatus& p) { return p.entities; });
  family("flowlier_kafka_partition_windows_closed_total", "Entity windows the partition's engine closed", true,
         [](const PartitionStatus& p) { return p.windows_closed; });
  service::render_sink_metrics(t, sinks);
  return t.text();
}

std::string topic_of(const pipeline::AnomalyEvent& e) {
  if (e.status == pipeline::EventStatus::resolved) return "resolved." + e.entity_kind;
  return fmt::format("anomaly.{}.{}", pipeline::to_string(e.severity), e.entity_kind);
}

bool signalled(const sigset_t& signals) {
  const timespec zero{0, 0};
  return sigtimedwait(&signals, nullptr, &zero) > 0;
}
}  // namespace

int run_kafka(const pipeline::Config& config, const std::string& config_path, const std::string& metrics_endpoint) {
  auto loaded = transport::read_kafka_source_config(config.document);
  if (!loaded.error.empty() || !loaded.config) {
    fmt::print(stderr, "run: config error: {}\n", loaded.error);
    return 2;
  }
  const transport::KafkaSourceConfig& kafka = *loaded.config;
  if (kafka.format != "auto" && !pipeline::parse_input_format(kafka.format)) {
    fmt::print(stderr, "run: config error: {}: 'source.kafka.format' names an unknown format '{}'\n", config_path,
               kafka.format);
    return 2;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::string error;
  auto sinks = service::SinkBridge::open(config.document, config.state.path, error);
  if (!sinks) {
    fmt::print(stderr, "run: sink configuration error: {}\n", error);
    return 2;
  }
  zmq::context_t context;
  std::unique_ptr<transport::ZmqPublisher> publisher;
  try {
    transport::SocketOptions pub;
    pub.send_hwm = static_cast<int>(config.service.hwm);
    pub.linger_ms = 1000;
    publisher = std::make_unique<transport::ZmqPublisher>(context, config.endpoints.events_out, pub);
  } catch (const zmq::error_t& e) {
    fmt::print(stderr, "run: cannot bind endpoints.events_out {}: {}\n", config.endpoints.events_out, e.what());
    return 2;
  }
  auto store = transport::KafkaStateStore::open(kafka, error);
  if (!store) {
    fmt::print(stderr, "run: kafka: {}\n", error);
    return 2;
  }
  PartitionEngines engines(config, kafka, *store, [&](const pipeline::AnomalyEvent& event) {
    const std::string json = event.to_json();
    publisher->publish(topic_of(event), json);
    if (!sinks->empty()) sinks->publish_json(json);
  });
  transport::MetricsServer server([&engines, &sinks](std::string_view path) -> transport::MetricsReply {
    if (path == "/metrics") return {200, transport::PrometheusText::kContentType, render(engines.status(), *sinks)};
    if (path == "/healthz") return {200, "text/plain; charset=utf-8", "ok\n"};
    if (path == "/readyz") {
      // Ready once the group has given this member its share (possibly none, when the
      // group has more members than partitions); not while a rebalance is under way.
      const auto s = engines.status();
      if (!s.assigned) return {503, "text/plain; charset=utf-8", "not ready: no partition assignment\n"};
      // As the ZeroMQ run says: a refused sink's events pile up in its spool.
      if (auto id = sinks->misconfigured(); !id.empty())
        return {503, "text/plain; charset=utf-8", fmt::format("not ready: sink {} has a configuration error\n", id)};
      return {200, "text/plain; charset=utf-8", fmt::format("ready: {} partitions\n", s.partitions.size())};
    }
    return {404, "text/plain; charset=utf-8", "not found\n"};
  });
  if (auto why = server.start(metrics_endpoint); !why.empty()) {
    fmt::print(stderr, "run: metrics: {}\n", why);
    return 2;
  }
  auto source = transport::KafkaSource::open(kafka, engines, error);
  if (!source) {
    fmt::print(stderr, "run: kafka: {}\n", error);
    return 2;
  }
  engines.attach(*source);
  fmt::print(stderr, "run (kafka): group {} on {}, events out {}, metrics http://{}/metrics\n", kafka.group_id,
             fmt::join(kafka.topics, ","), publisher->endpoint(), metrics_endpoint);

  int rc = 0;
  while (!signalled(signals)) {
    source->poll(std::chrono::milliseconds(100), kMessagesPerPoll,
                 [&](const transport::KafkaMessage& m) { engines.process(m); });
    if (!engines.fatal().empty()) {
      fmt::print(stderr, "run: kafka: {}\n", engines.fatal());
      rc = 2;
      break;
    }
    engines.advance_idle();
    engines.checkpoint_due();
    engines.refresh_status();
  }
  // Leaving the group revokes: every partition is checkpointed and committed first.
  if (rc == 0) fmt::print(stderr, "run: leaving consumer group {}\n", kafka.group_id);
  if (rc == 0) source->close();
  source.reset();
  server.stop();
  if (!sinks->empty() && !sinks->finish(stderr, std::chrono::seconds(10)))
    fmt::print(stderr, "  sinks: undelivered events stay spooled and go out on the next run\n");
  return rc;
}
#else
int run_kafka(const pipeline::Config&, const std::string&, const std::string&) {
  fmt::print(stderr, "run: [source.kafka]: this flowlier was built without Kafka (librdkafka-dev)\n");
  return 2;
}
#endif

}  // namespace flowlier::app
