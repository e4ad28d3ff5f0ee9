#pragma once
// Builds the configured sinks: FileSink for file/stdout, DeliveryService otherwise.
#include <memory>
#include <vector>

#include "transport/DeliveryService.hpp"
#include "transport/Sink.hpp"
#include "transport/SinkConfig.hpp"

namespace flowlier::transport {

// All or nothing: on error returns no sinks and sets `error` (secret-free).
std::vector<std::unique_ptr<Sink>> make_sinks(const std::vector<SinkConfig>& configs, SinkLog log,
                                              std::string& error);

}  // namespace flowlier::transport
