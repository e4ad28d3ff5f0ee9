#include "core/TomlReader.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/NearestName.hpp"

namespace flowlier::core {

TomlReader::TomlReader(const ConfigDocument& document)
    : document_(document), table_(document_.tree().root), source_(document.source()) {}

TomlReader::TomlReader(const toml::table& table, std::string source, std::string prefix)
    : table_(table), source_(std::move(source)), prefix_(std::move(prefix)) {}

const toml::node* TomlReader::find(std::string_view key) const { return table_.at_path(key).node(); }

const toml::node* TomlReader::node(std::string_view key) {
  if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.emplace_back(key);
  if (!error_.empty()) return nullptr;
  const toml::node* n = find(key);
  if (n != nullptr) seen_.insert(std::string(key));
  return n;
}

void TomlReader::check(bool ok, std::string_view key, std::string_view message) {
  if (ok || !error_.empty()) return;
  const toml::node* n = find(key);
  // An absent key: the line of its table (0 for the document itself, which has none).
  const std::uint32_t line = n != nullptr ? line_of(*n) : (prefix_.empty() ? 0 : line_of(table_));
  error_ = fmt::format("{}:{}: '{}{}' {}", source_, line, prefix_, key, message);
}

void TomlReader::fail(const toml::node& at, std::string_view key, std::string_view message) {
  if (error_.empty()) error_ = fmt::format("{}:{}: '{}{}' {}", source_, line_of(at), prefix_, key, message);
}

std::string TomlReader::range_message(std::int64_t min, std::int64_t max) {
  if (min == 0 && max == std::numeric_limits<std::int64_t>::max()) return "must be a non-negative integer";
  if (min == 0) return fmt::format("must be a non-negative integer no larger than {}", max);
  return fmt::format("must be an integer from {} to {}", min, max);
}

void TomlReader::read_strings(const toml::node& n, std::string_view key, std::vector<std::string>& out) {
  const auto* array = n.as_array();
  if (array == nullptr) return fail(n, key, "must be an array of strings");
  std::vector<std::string> values;
  for (const auto& item : *array) {
    auto v = item.value<std::string>();
    if (!v) return fail(item, key, "must be an array of strings");
    values.push_back(*v);
  }
  out = std::move(values);
}

void TomlReader::read_string_table(const toml::node& n, std::string_view key, std::map<std::string, std::string>& out) {
  const auto* table = n.as_table();
  if (table == nullptr) return fail(n, key, "must be a table of strings");
  for (const auto& [k, v] : *table) {
    auto s = v.value<std::string>();
    if (!s) return fail(v, key, "must be a table of strings");
    out[std::string(k.str())] = *s;
  }
}

void TomlReader::walk(const toml::table& table, const std::string& path,
                      std::vector<std::pair<std::uint32_t, std::string>>& unknown) const {
  for (const auto& [key, n] : table) {
    const std::string at = path.empty() ? std::string(key.str()) : path + "." + std::string(key.str());
    if (seen_.count(at)) continue;
    // A table nothing read as a whole: its keys may still have been read one by one.
    if (const auto* sub = n.as_table()) walk(*sub, at, unknown);
    else unknown.emplace_back(line_of(n), at);
  }
}

void TomlReader::reject_unknown(std::string_view context) {
  if (!error_.empty()) return;
  std::vector<std::pair<std::uint32_t, std::string>> unknown;
  walk(table_, "", unknown);
  if (unknown.empty()) return;
  const auto first = std::min_element(unknown.begin(), unknown.end());
  const std::string near = nearest_name(first->second, known_);
  error_ = fmt::format("{}:{}: unknown key '{}{}'{}{}", source_, first->first, prefix_, first->second,
                       near.empty() ? "" : fmt::format(" (did you mean '{}{}'?)", prefix_, near), context);
}

}  // namespace flowlier::core
