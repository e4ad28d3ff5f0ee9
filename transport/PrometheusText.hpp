#pragma once
// Builds a Prometheus text exposition (format 0.0.4): each family gets # HELP and
// # TYPE before its samples. Label values must come from bounded sets (reasons,
// severities), never from data (addresses, interface ids).
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "transport/LatencyHistogram.hpp"

namespace flowlier::transport {

class PrometheusText {
 public:
  static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

  void counter(std::string_view name, std::string_view help, double value);
  void gauge(std::string_view name, std::string_view help, double value);
  // One family with one label, e.g. flowlier_events_total{severity="high"}.
  void counter_family(std::string_view name, std::string_view help, std::string_view label,
                      const std::vector<std::pair<std::string, double>>& values);
  void gauge_family(std::string_view name, std::string_view help, std::string_view label,
                    const std::vector<std::pair<std::string, double>>& values);
  void histogram(std::string_view name, std::string_view help, const LatencyHistogram& h);
  // One histogram family with one label, e.g. flowlier_stage_latency_seconds{stage="scoring"}.
  void histogram_family(std::string_view name, std::string_view help, std::string_view label,
                        const std::vector<std::pair<std::string, const LatencyHistogram*>>& values);

  const std::string& text() const { return out_; }

 private:
  void header(std::string_view name, std::string_view help, std::string_view type);
  void sample(std::string_view name, std::string_view labels, double value);
  // The samples of one histogram; `labels` ("" or `k="v"`) go before le.
  void histogram_samples(std::string_view name, std::string_view labels, const LatencyHistogram& h);
  std::string out_;
};

// Escapes a label value (backslash, double quote, newline) per the exposition format.
std::string escape_label_value(std::string_view value);

}  // namespace flowlier::transport
