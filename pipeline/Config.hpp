#pragma once
// flowlier's one configuration file (TOML), read by both `replay` and `run`.
// Every key has a default, so no file is needed; unknown keys are errors that name
// the key and its line. default_config_text() is the full default file, commented.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/ConfigDocument.hpp"
#include "pipeline/Engine.hpp"
#include "pipeline/InputFormat.hpp"
#include "pipeline/Rules.hpp"

namespace flowlier::pipeline {

struct EndpointsConfig {
  std::string flows_in = "tcp://127.0.0.1:7701";
  std::string events_out = "tcp://127.0.0.1:7702";
  std::string metrics = "127.0.0.1:9477";
};

struct StateConfig {
  std::string path;  // empty: no snapshots
  std::int64_t snapshot_interval_seconds = 300;
};

// How `run` deploys itself: the whole pipeline in one process, or one stage of a
// sharded deployment (see README "Scaling out"). Command-line options override these.
struct ServiceConfig {
  std::string role = "single";  // single | ingest | score | publish
  // single role: engines scoring in parallel threads, each owning the entities whose
  // key hash falls in its shard; 0 = one per CPU core (at most 8).
  std::uint32_t scoring_threads = 0;
  std::uint32_t hwm = 1000;       // high-water mark of every socket, in messages
  double idle_seconds = 30;       // no records this long: event time follows the wall clock (0: never)
  std::string listen;             // score / publish: endpoint bound for the stage upstream
  std::string publish_to;         // score: the publisher's listen endpoint
  std::vector<std::string> shards;  // ingest: the scorers' listen endpoints, in shard order
  std::uint32_t shard_index = 0;  // score
  std::uint32_t shard_count = 1;  // score
  // single / ingest: every rejected live record (source, reason, raw input) as JSON
  // Lines here, rotated like the file sink; "" = counted only.
  std::string rejects_file;
  std::uint64_t rejects_max_bytes = 100ull << 20;
  std::uint32_t rejects_max_files = 5;
};

// CURVE on every tcp endpoint of `run` (files written by `flowlier keygen`).
struct SecurityConfig {
  std::string curve_secret_key_file;  // this process's secret key; set = CURVE on
  std::string curve_allow_file;       // client public keys admitted, one per line
  std::string curve_peer_file;        // ingest / score: the servers' public key(s)
};

// [limits]: resource bounds (pipeline/MemoryLimit).
struct LimitsConfig {
  // Bytes the entity tables of all engines may hold (0: no limit beyond
  // entities.max_entities). 1 GiB: a small box keeps half a million entities.
  std::uint64_t max_memory = 1ull << 30;
};

struct Config {
  EngineConfig engine;
  LimitsConfig limits;
  std::string input_format = "auto";
  DecoderOptions decoder;
  EndpointsConfig endpoints;
  StateConfig state;
  ServiceConfig service;
  SecurityConfig security;
  std::vector<Rule> rules;  // [[rules]], in file order (pipeline/Rules.hpp)
  // The parsed file this came from (empty without one): transport reads its own parts,
  // [[sinks]] and [source.kafka], from it instead of reading the file again.
  core::ConfigDocument document;
};

struct ConfigResult {
  Config config;
  std::string error;  // empty on success; else "FILE:LINE: what is wrong"
};

// The pipeline's parts of a parsed config file (all but [[sinks]] and [source.kafka]).
[[nodiscard]] ConfigResult read_config(const core::ConfigDocument& document);
// Reads and parses the file once, then read_config.
[[nodiscard]] ConfigResult load_config_file(const std::string& path);
[[nodiscard]] ConfigResult parse_config(std::string_view text, const std::string& source_name);
const char* default_config_text();

// Why `endpoint` is not a ZeroMQ endpoint flowlier can bind (`bind`) or connect to:
// tcp://HOST:PORT (PORT 1-65535; 0 or * also when binding), ipc://PATH, inproc://NAME.
// "" when it is one. Checked by `config --check` and `run --check-config`, before any bind.
std::string zmq_endpoint_error(std::string_view endpoint, bool bind);

}  // namespace flowlier::pipeline
