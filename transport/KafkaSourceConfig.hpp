#pragma once
// [source.kafka]: `flowlier run` as one member of a Kafka consumer group. Read by
// transport, not pipeline (the model must not know Kafka exists); pipeline's config
// reader leaves the table to this one.
//
//   [source.kafka]
//   brokers = "b-1.msk:9098,b-2.msk:9098"
//   topics = ["flowlogs"]
//   group_id = "flowlier"
//   format = "auto"              # or any input format name; one record, a batch or a document per message
//   assignor = "range"           # or "roundrobin": eager protocols only, see README "Scaling out"
//   state_topic = "flowlier-state"   # compacted: per-partition checkpoints
//   checkpoint_interval_seconds = 30
//   checkpoint_chunk_bytes = 524288
//   [source.kafka.librdkafka]    # passed through to librdkafka as they are
//   "security.protocol" = "SASL_SSL"
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/ConfigDocument.hpp"

namespace flowlier::transport {

struct KafkaSourceConfig {
  std::string brokers;
  std::vector<std::string> topics;
  std::string group_id;
  std::string format = "auto";
  std::string assignor = "range";
  std::string state_topic = "flowlier-state";
  double checkpoint_interval_seconds = 30;
  std::size_t checkpoint_chunk_bytes = 512 * 1024;
  // librdkafka properties, also given to the checkpoint producer and reader. May hold
  // secrets (sasl.password): never printed.
  std::map<std::string, std::string> librdkafka;
};

struct KafkaSourceConfigResult {
  std::optional<KafkaSourceConfig> config;  // nullopt: no [source.kafka]
  std::string error;                        // "file:line: 'source.kafka.key' why"
};

// From a parsed config file (pipeline::Config::document): the file is read once.
[[nodiscard]] KafkaSourceConfigResult read_kafka_source_config(const core::ConfigDocument& document);
[[nodiscard]] KafkaSourceConfigResult parse_kafka_source_config(const std::string& text, const std::string& source);
[[nodiscard]] KafkaSourceConfigResult load_kafka_source_config_file(const std::string& path);

}  // namespace flowlier::transport
