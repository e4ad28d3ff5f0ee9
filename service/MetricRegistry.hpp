#pragma once
// One registry for the live service's plain counters and gauges: each is declared with
// its exported name and help text in the same line, and render() writes every one, so a
// counter the code keeps cannot be left out of /metrics. (Families with labels, sums
// over engines and histograms are rendered by service/RunMetrics on top.)
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "transport/PrometheusText.hpp"

namespace flowlier::service {

class MetricRegistry {
 public:
  enum class Kind { counter, gauge };

  // A value the stages update like any atomic. Registers itself; lives as long as the
  // registry (both are members of one RunMetrics, the registry first).
  class Value : public std::atomic<std::uint64_t> {
   public:
    Value(MetricRegistry& registry, std::string_view name, std::string_view help, Kind kind = Kind::counter)
        : std::atomic<std::uint64_t>(0) {
      registry.entries_.push_back({std::string(name), std::string(help), kind, this});
    }
    Value(const Value&) = delete;
    Value& operator=(const Value&) = delete;
    using std::atomic<std::uint64_t>::operator=;
  };

  MetricRegistry() = default;
  MetricRegistry(const MetricRegistry&) = delete;
  MetricRegistry& operator=(const MetricRegistry&) = delete;

  void render(transport::PrometheusText& out) const {
    for (const auto& e : entries_) {
      const auto value = static_cast<double>(e.value->load());
      if (e.kind == Kind::counter) {
        out.counter(e.name, e.help, value);
      } else {
        out.gauge(e.name, e.help, value);
      }
    }
  }
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string name;
    std::string help;
    Kind kind;
    const std::atomic<std::uint64_t>* value;
  };
  std::vector<Entry> entries_;
};

}  // namespace flowlier::service
