#pragma once
// flowlier's one configuration file (TOML), read by both `replay` and `run`.
// Every key has a default, so no file is needed; unknown keys are errors that name
// the key and its line. default_config_text() is the full default file, commented.
#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/Engine.hpp"
#include "pipeline/InputFormat.hpp"

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

struct Config {
  EngineConfig engine;
  std::string input_format = "auto";
  DecoderOptions decoder;
  EndpointsConfig endpoints;
  StateConfig state;
};

struct ConfigResult {
  Config config;
  std::string error;  // empty on success; else "FILE:LINE: what is wrong"
};

ConfigResult load_config_file(const std::string& path);
ConfigResult parse_config(std::string_view text, const std::string& source_name);
const char* default_config_text();

}  // namespace flowlier::pipeline
