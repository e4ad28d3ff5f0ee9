#pragma once
// `flowlier run` with [source.kafka]: one member of a Kafka consumer group instead of
// the ZeroMQ intake. Events go out as in the other roles: the PUB socket
// (endpoints.events_out) and the [[sinks]]. Metrics per partition on endpoints.metrics.
#include <string>

#include "pipeline/Config.hpp"

namespace flowlier::app {

// True when the parsed config file has a [source.kafka] table (whether or not this build has
// Kafka); `error` is set when it cannot be read.
bool has_kafka_source(const core::ConfigDocument& config, std::string& error);
// Runs until SIGTERM or SIGINT. Returns the exit code.
int run_kafka(const pipeline::Config& config, const std::string& config_path, const std::string& metrics_endpoint);

}  // namespace flowlier::app
