#include "transport/PrometheusText.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace flowlier::transport {

namespace {
std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Integral values print without exponent or decimals (counters are usually integers).
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{:.0f}", v);
  return fmt::format("{}", v);
}
}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void PrometheusText::header(std::string_view name, std::string_view help, std::string_view type) {
  std::string escaped;
  for (char c : help) {
    if (c == '\\') escaped += "\\\\";
    else if (c == '\n') escaped += "\\n";
    else escaped += c;
  }
  out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escaped, name, type);
}

void PrometheusText::sample(std::string_view name, std::string_view labels, double value) {
  out_ += name;
  if (!labels.empty()) {
    out_ += '{';
    out_ += labels;
    out_ += '}';
  }
  out_ += ' ';
  out_ += number(value);
  out_ += '\n';
}

void PrometheusText::counter(std::string_view name, std::string_view help, double value) {
  header(name, help, "counter");
  sample(name, "", value);
}

void PrometheusText::gauge(std::string_view name, std::string_view help, double value) {
  header(name, help, "gauge");
  sample(name, "", value);
}

void PrometheusText::counter_family(std::string_view name, std::string_view help, std::string_view label,
                                    const std::vector<std::pair<std::string, double>>& values) {
  header(name, help, "counter");
  for (const auto& [label_value, value] : values) {
    sample(name, fmt::format("{}=\"{}\"", label, escape_label_value(label_value)), value);
  }
}

void PrometheusText::gauge_family(std::string_view name, std::string_view help, std::string_view label,
                                  const std::vector<std::pair<std::string, double>>& values) {
  header(name, help, "gauge");
  for (const auto& [label_value, value] : values) {
    sample(name, fmt::format("{}=\"{}\"", label, escape_label_value(label_value)), value);
  }
}

void PrometheusText::histogram(std::string_view name, std::string_view help, const LatencyHistogram& h) {
  header(name, help, "histogram");
  histogram_samples(name, "", h);
}

void PrometheusText::histogram_family(std::string_view name, std::string_view help, std::string_view label,
                                      const std::vector<std::pair<std::string, const LatencyHistogram*>>& values) {
  header(name, help, "histogram");
  for (const auto& [label_value, h] : values) {
    histogram_samples(name, fmt::format("{}=\"{}\"", label, escape_label_value(label_value)), *h);
  }
}

void PrometheusText::histogram_samples(std::string_view name, std::string_view labels, const LatencyHistogram& h) {
  const std::string bucket = std::string(name) + "_bucket";
  const std::string prefix = labels.empty() ? std::string() : std::string(labels) + ",";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < LatencyHistogram::kBounds.size(); ++i) {
    cumulative += h.bucket(i);
    sample(bucket, fmt::format("{}le=\"{}\"", prefix, LatencyHistogram::kBounds[i]), static_cast<double>(cumulative));
  }
  // Read after the buckets, so +Inf is never below the last finite bucket.
  const auto count = static_cast<double>(std::max(h.count(), cumulative));
  sample(bucket, prefix + "le=\"+Inf\"", count);
  sample(std::string(name) + "_sum", labels, h.sum_seconds());
  sample(std::string(name) + "_count", labels, count);
}

}  // namespace flowlier::transport
