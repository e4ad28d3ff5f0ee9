#include <catch2/catch.hpp>

#include "core/TomlReader.hpp"
#include "pipeline/Config.hpp"
#include "pipeline/MemoryLimit.hpp"

using namespace flowlier::pipeline;

TEST_CASE("Config: the commented default file parses to the defaults") {
  const auto result = parse_config(default_config_text(), "defaults.toml");
  REQUIRE(result.error.empty());
  const Config defaults;
  CHECK(result.config.service.role == defaults.service.role);
  CHECK(result.config.service.scoring_threads == defaults.service.scoring_threads);
  CHECK(result.config.service.hwm == defaults.service.hwm);
  CHECK(result.config.service.idle_seconds == defaults.service.idle_seconds);
  CHECK(result.config.security.curve_secret_key_file.empty());
  CHECK(result.config.endpoints.flows_in == defaults.endpoints.flows_in);
}

TEST_CASE("Config: [service] and [security] set a sharded stage") {
  const auto result = parse_config(R"(
[service]
role = "score"
listen = "tcp://10.0.0.5:7801"
publish_to = "tcp://10.0.0.9:7901"
shard_index = 2
shard_count = 3
hwm = 50
idle_seconds = 5.5
scoring_threads = 4
shards = ["tcp://a:1", "tcp://b:2"]

[security]
curve_secret_key_file = "/etc/flowlier/score.key"
curve_allow_file = "/etc/flowlier/allowed"
curve_peer_file = "/etc/flowlier/publisher.pub"
)",
                                   "sharded.toml");
  REQUIRE(result.error.empty());
  const auto& s = result.config.service;
  CHECK(s.role == "score");
  CHECK(s.listen == "tcp://10.0.0.5:7801");
  CHECK(s.publish_to == "tcp://10.0.0.9:7901");
  CHECK(s.shard_index == 2);
  CHECK(s.shard_count == 3);
  CHECK(s.hwm == 50);
  CHECK(s.idle_seconds == 5.5);
  CHECK(s.scoring_threads == 4);
  CHECK(s.shards == std::vector<std::string>{"tcp://a:1", "tcp://b:2"});
  CHECK(result.config.security.curve_secret_key_file == "/etc/flowlier/score.key");
  CHECK(result.config.security.curve_allow_file == "/etc/flowlier/allowed");
  CHECK(result.config.security.curve_peer_file == "/etc/flowlier/publisher.pub");
}

TEST_CASE("Config: bad service settings name the key and its line") {
  SECTION("an unknown role") {
    const auto r = parse_config("[service]\nrole = \"scorer\"\n", "f.toml");
    CHECK(r.error == "f.toml:2: 'service.role' must be \"single\", \"ingest\", \"score\" or \"publish\"");
  }
  SECTION("a shard index outside the count") {
    const auto r = parse_config("[service]\nshard_count = 2\nshard_index = 2\n", "f.toml");
    CHECK(r.error.find("f.toml:3: 'service.shard_index' must be below service.shard_count") == 0);
  }
  SECTION("an unknown key in [security]") {
    const auto r = parse_config("[security]\n\ncurve_secret = \"k\"\n", "f.toml");
    CHECK(r.error == "f.toml:3: unknown key 'security.curve_secret' (did you mean 'security.curve_secret_key_file'?)");
  }
  SECTION("a zero high-water mark") {
    const auto r = parse_config("[service]\nhwm = 0\n", "f.toml");
    CHECK(r.error == "f.toml:2: 'service.hwm' must be between 1 and 1000000");
  }
  SECTION("a high-water mark beyond 32 bits is refused, not truncated (2^32 + 1 would be 1)") {
    const auto r = parse_config("[service]\nhwm = 4294967297\n", "f.toml");
    CHECK(r.error == "f.toml:2: 'service.hwm' must be a non-negative integer no larger than 4294967295");
  }
}

TEST_CASE("Config: the document it came from is kept for transport's parts") {
  const auto r = parse_config("[[sinks]]\ntype = \"stdout\"\n", "f.toml");
  REQUIRE(r.error.empty());
  CHECK(r.config.document.source() == "f.toml");
  CHECK(r.config.document.tree().root.get("sinks") != nullptr);
}

TEST_CASE("Config: [limits] max_memory caps each engine's entity table") {
  const auto defaults = parse_config("", "empty.toml");
  REQUIRE(defaults.error.empty());
  CHECK(defaults.config.limits.max_memory == (1ull << 30));
  const auto set = parse_config("[limits]\nmax_memory = 268435456\n", "f.toml");
  REQUIRE(set.error.empty());
  CHECK(set.config.limits.max_memory == 268435456);
  const auto bad = parse_config("[window]\nseconds = 60\n\n[limits]\nmax_memory = 4096\n", "f.toml");
  CHECK(bad.error == "f.toml:5: 'limits.max_memory' must be 0 (no limit) or at least 1048576 bytes");
  CHECK(parse_config("[limits]\nmax_memory = \"1GiB\"\n", "f.toml").error.find("a non-negative integer") !=
        std::string::npos);

  // The cap: the bytes shared by the engines at kBytesPerEntity each, unless
  // entities.max_entities is smaller; never below one entity; 0 = no byte limit.
  const auto cap = entity_cap(1'000'000, 256ull << 20, 2);
  CHECK(cap.by_memory);
  CHECK(cap.max_entities == (256ull << 20) / 2 / kBytesPerEntity);
  CHECK_FALSE(entity_cap(1000, 1ull << 30, 1).by_memory);
  CHECK(entity_cap(1000, 1ull << 30, 1).max_entities == 1000);
  CHECK(entity_cap(1000, 0, 4).max_entities == 1000);
  CHECK(entity_cap(1'000'000, 1, 8).max_entities == 1);
}
