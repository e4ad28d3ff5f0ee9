// [source.kafka] is read by the shared config reader: errors name the file, line and key.
#include <catch2/catch.hpp>

#include "transport/KafkaSourceConfig.hpp"

using namespace flowlier::transport;

namespace {
const std::string kValid = "[source.kafka]\nbrokers = \"b:9092\"\ntopics = [\"flows\"]\ngroup_id = \"g\"\n";
}

TEST_CASE("KafkaSourceConfig: a valid table, and none at all") {
  const auto none = parse_kafka_source_config("[window]\nseconds = 60\n", "k.toml");
  CHECK(none.error.empty());
  CHECK(!none.config);
  const auto r = parse_kafka_source_config(kValid + "checkpoint_chunk_bytes = 1024\n[source.kafka.librdkafka]\n"
                                           "\"fetch.max.bytes\" = 1048576\n", "k.toml");
  REQUIRE(r.error.empty());
  REQUIRE(r.config);
  CHECK(r.config->checkpoint_chunk_bytes == 1024);
  CHECK(r.config->librdkafka.at("fetch.max.bytes") == "1048576");
}

TEST_CASE("KafkaSourceConfig: range checks and keys flowlier owns") {
  CHECK(parse_kafka_source_config(kValid + "checkpoint_chunk_bytes = 0\n", "k.toml").error ==
        "k.toml:5: 'source.kafka.checkpoint_chunk_bytes' must be an integer from 1 to 9223372036854775807");
  CHECK(parse_kafka_source_config(kValid + "checkpoint_interval_seconds = -1.5\n", "k.toml").error ==
        "k.toml:5: 'source.kafka.checkpoint_interval_seconds' must be a positive number");
  CHECK(parse_kafka_source_config(kValid + "[source.kafka.librdkafka]\n\"group.id\" = \"x\"\n", "k.toml").error ==
        "k.toml:6: 'source.kafka.librdkafka.group.id' is set by flowlier (see source.kafka.assignor, group_id, "
        "brokers)");
  CHECK(parse_kafka_source_config(kValid + "group = \"x\"\n", "k.toml").error ==
        "k.toml:5: unknown key 'source.kafka.group' (did you mean 'source.kafka.group_id'?)");
  CHECK(parse_kafka_source_config("[source.kafka]\ntopics = [\"t\"]\n", "k.toml").error ==
        "k.toml:1: 'source.kafka.brokers' is required");
}
