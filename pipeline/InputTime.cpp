#include "pipeline/InputTime.hpp"

#include <vector>

#include "pipeline/formats/Rfc3339.hpp"

namespace flowlier::pipeline {

namespace {

bool digits(std::string_view s, std::size_t n) {
  if (s.size() != n) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int number(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

std::optional<std::int64_t> civil(int year, int month, int day, int hour, int minute) {
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59) return std::nullopt;
  return formats::days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
         hour * 3600 + minute * 60;
}

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos <= path.size()) {
    const std::size_t slash = path.find('/', pos);
    const std::size_t end = slash == std::string_view::npos ? path.size() : slash;
    if (end > pos) out.push_back(path.substr(pos, end - pos));
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  return out;
}

// AWS: {account}_vpcflowlogs_{region}_{flow-log-id}_{YYYYMMDDTHHmmZ}_{hash}.log.gz
std::optional<std::int64_t> aws_stamp(std::string_view name) {
  for (std::size_t at = name.find('_'); at != std::string_view::npos; at = name.find('_', at + 1)) {
    const std::string_view s = name.substr(at + 1, 14);
    if (s.size() == 14 && digits(s.substr(0, 8), 8) && s[8] == 'T' && digits(s.substr(9, 4), 4) && s[13] == 'Z' &&
        at + 15 < name.size() && name[at + 15] == '_') {
      auto t = civil(number(s.substr(0, 4)), number(s.substr(4, 2)), number(s.substr(6, 2)), number(s.substr(9, 2)),
                     number(s.substr(11, 2)));
      if (t) return *t - kAwsStampLeadSeconds;
    }
  }
  return std::nullopt;
}

// Azure: the segments y=YYYY, m=MM, d=DD, h=HH, m=MM in this order.
std::optional<std::int64_t> azure_segments(const std::vector<std::string_view>& parts) {
  for (std::size_t i = 0; i + 4 < parts.size(); ++i) {
    const auto value = [&](std::size_t k, std::string_view key, std::size_t n) -> std::optional<int> {
      const std::string_view p = parts[i + k];
      if (p.substr(0, key.size()) != key || !digits(p.substr(key.size()), n)) return std::nullopt;
      return number(p.substr(key.size()));
    };
    auto y = value(0, "y=", 4), mo = value(1, "m=", 2), d = value(2, "d=", 2), h = value(3, "h=", 2),
         mi = value(4, "m=", 2);
    if (y && mo && d && h && mi) return civil(*y, *mo, *d, *h, *mi);
  }
  return std::nullopt;
}

// GCP Cloud Storage sink: YYYY/MM/DD/HH:MM:SS_HH:MM:SS_S<n>.json
std::optional<std::int64_t> gcp_shard(const std::vector<std::string_view>& parts) {
  if (parts.size() < 4) return std::nullopt;
  const std::size_t n = parts.size();
  const std::string_view name = parts[n - 1];
  if (!digits(parts[n - 4], 4) || !digits(parts[n - 3], 2) || !digits(parts[n - 2], 2)) return std::nullopt;
  if (name.size() < 18 || !digits(name.substr(0, 2), 2) || name[2] != ':' || !digits(name.substr(3, 2), 2) ||
      name[5] != ':' || name[8] != '_') {
    return std::nullopt;
  }
  return civil(number(parts[n - 4]), number(parts[n - 3]), number(parts[n - 2]), number(name.substr(0, 2)),
               number(name.substr(3, 2)));
}

}  // namespace

std::optional<std::int64_t> path_time(std::string_view path) {
  const auto parts = segments(path);
  if (parts.empty()) return std::nullopt;
  if (auto t = azure_segments(parts)) return t;
  if (auto t = gcp_shard(parts)) return t;
  return aws_stamp(parts.back());
}

}  // namespace flowlier::pipeline
