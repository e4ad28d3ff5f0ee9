#include "core/NearestName.hpp"

#include <algorithm>
#include <numeric>

namespace flowlier::core {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), 0);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string nearest_name(std::string_view given, const std::vector<std::string>& candidates) {
  // A name cut short ("curve_secret" for "curve_secret_key_file"): the shortest it begins.
  std::string best;
  for (const auto& candidate : candidates) {
    if (given.size() >= 3 && candidate.size() > given.size() && candidate.starts_with(given) &&
        (best.empty() || candidate.size() < best.size())) {
      best = candidate;
    }
  }
  if (!best.empty()) return best;
  const std::size_t limit = std::max<std::size_t>(2, given.size() / 4);
  std::size_t best_distance = limit + 1;
  for (const auto& candidate : candidates) {
    const std::size_t d = edit_distance(given, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

}  // namespace flowlier::core
