#include "transport/SinkFactory.hpp"

#include "transport/FileSink.hpp"

namespace flowlier::transport {

std::vector<std::unique_ptr<Sink>> make_sinks(const std::vector<SinkConfig>& configs, SinkLog log,
                                              std::string& error) {
  std::vector<std::unique_ptr<Sink>> sinks;
  for (const auto& config : configs) {
    if (config.type == SinkType::file || config.type == SinkType::stdout_) {
      auto sink = std::make_unique<FileSink>(config, error);
      if (!error.empty()) return {};
      sinks.push_back(std::move(sink));
    } else {
      auto sink = DeliveryService::start(config, log, error);
      if (!sink) return {};
      sinks.push_back(std::move(sink));
    }
  }
  return sinks;
}

}  // namespace flowlier::transport
