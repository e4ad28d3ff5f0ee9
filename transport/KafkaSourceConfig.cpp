#include "transport/KafkaSourceConfig.hpp"

#include <limits>

#include <fmt/format.h>

#include "core/TomlReader.hpp"
#include "transport/KafkaProperties.hpp"

namespace flowlier::transport {
KafkaSourceConfigResult read_kafka_source_config(const core::ConfigDocument& document) {
  KafkaSourceConfigResult result;
  const std::string& source = document.source();
  const toml::table& root = document.tree().root;
  const auto* table = root.at_path("source.kafka").as_table();
  if (!table) {
    if (const auto* n = root.at_path("source.kafka").node())
      result.error = fmt::format("{}:{}: 'source.kafka' must be a table", source, n->source().begin.line);
    return result;
  }
  KafkaSourceConfig c;
  core::TomlReader r(*table, source, "source.kafka.");
  r.get("brokers", c.brokers);
  r.get("topics", c.topics);
  r.get("group_id", c.group_id);
  r.get("format", c.format);
  r.get("assignor", c.assignor);
  r.get("state_topic", c.state_topic);
  r.get("checkpoint_interval_seconds", c.checkpoint_interval_seconds);
  r.check(c.checkpoint_interval_seconds > 0, "checkpoint_interval_seconds", "must be a positive number");
  r.get_integer<std::size_t>("checkpoint_chunk_bytes", c.checkpoint_chunk_bytes, 1,
                             std::numeric_limits<std::size_t>::max());
  read_kafka_properties(r, "librdkafka", c.librdkafka);
  r.check(!c.brokers.empty(), "brokers", "is required");
  r.check(!c.topics.empty(), "topics", "must name at least one topic");
  r.check(!c.group_id.empty(), "group_id", "is required");
  r.check(!c.state_topic.empty(), "state_topic", "must not be empty");
  r.check(c.assignor == "range" || c.assignor == "roundrobin", "assignor",
          "must be \"range\" or \"roundrobin\" (eager: the cooperative assignor of librdkafka 2.0 is not used)");
  // These carry flowlier's offset and rebalance discipline: set by their own keys only.
  for (const char* owned : {"partition.assignment.strategy", "group.id", "enable.auto.commit",
                            "enable.auto.offset.store", "bootstrap.servers"}) {
    if (!c.librdkafka.count(owned)) continue;
    r.fail(*table->at_path("librdkafka").as_table()->get(owned), std::string("librdkafka.") + owned,
           "is set by flowlier (see source.kafka.assignor, group_id, brokers)");
  }
  r.reject_unknown();
  result.error = r.error();
  if (result.error.empty()) result.config = std::move(c);
  return result;
}

KafkaSourceConfigResult parse_kafka_source_config(const std::string& text, const std::string& source) {
  auto parsed = core::parse_config_document(text, source);
  if (!parsed.error.empty()) return KafkaSourceConfigResult{std::nullopt, std::move(parsed.error)};
  return read_kafka_source_config(parsed.document);
}

KafkaSourceConfigResult load_kafka_source_config_file(const std::string& path) {
  auto loaded = core::load_config_document(path);
  if (!loaded.error.empty()) return KafkaSourceConfigResult{std::nullopt, std::move(loaded.error)};
  return read_kafka_source_config(loaded.document);
}

}  // namespace flowlier::transport
