#include "pipeline/StateSettings.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <istream>
#include <ostream>

#include "core/StateIo.hpp"
#include "pipeline/Engine.hpp"

namespace flowlier::pipeline {

namespace {
constexpr std::string_view kSettingsTag = "settings";
constexpr std::uint32_t kSettingsVersion = 1;

struct Settings {
  std::int64_t window_seconds = 0;
  std::int64_t lateness_seconds = 0;
  std::string kinds;  // comma-separated, in routing order
  std::string model;
};

Settings settings_of(const EngineConfig& config) {
  std::vector<std::string_view> kinds;
  for (const auto kind : config.router.kinds) kinds.push_back(models::to_string(kind));
  return {static_cast<std::int64_t>(config.windows.window_seconds),
          static_cast<std::int64_t>(config.windows.allowed_lateness_seconds), fmt::format("{}", fmt::join(kinds, ",")),
          config.model == BaselineModel::trailing_outlier ? "trailing-outlier" : "flowlier"};
}

// True when the next bytes of `in` are the frame of a record tagged `tag` (u16 length, tag).
bool next_record_is(std::istream& in, std::string_view tag) {
  const auto start = in.tellg();
  if (start == std::istream::pos_type(-1)) return false;
  std::uint16_t length = 0;
  std::string text(tag.size(), '\0');
  const bool match = in.read(reinterpret_cast<char*>(&length), sizeof length) && length == tag.size() &&
                     in.read(text.data(), static_cast<std::streamsize>(text.size())) && text == tag;
  in.clear();
  in.seekg(start);
  return match;
}
}  // namespace

void save_state_settings(std::ostream& out, const EngineConfig& config) {
  const Settings s = settings_of(config);
  detectors::StateWriter w;
  w.put(s.window_seconds);
  w.put(s.lateness_seconds);
  w.put_string(s.kinds);
  w.put_string(s.model);
  detectors::save_record(out, kSettingsTag, kSettingsVersion, w.bytes());
}

std::string check_state_settings(std::istream& in, const EngineConfig& config) {
  if (!next_record_is(in, kSettingsTag)) return {};
  std::string payload;
  if (auto error = detectors::load_record(in, kSettingsTag, kSettingsVersion, payload); !error.empty()) {
    return "state settings: " + error;
  }
  detectors::StateReader r(payload);
  Settings saved;
  r.get(saved.window_seconds);
  r.get(saved.lateness_seconds);
  r.get_string(saved.kinds, 1024);
  r.get_string(saved.model, 64);
  if (auto error = r.finish(); !error.empty()) return "state settings: " + error;
  const Settings now = settings_of(config);
  const auto differs = [](std::string_view key, const auto& state, const auto& configured) {
    return fmt::format(
        "the state was written with {} = {}, this configuration has {} = {}: use the same setting, "
        "or start without the state",
        key, state, key, configured);
  };
  if (saved.window_seconds != now.window_seconds)
    return differs("window.seconds", saved.window_seconds, now.window_seconds);
  if (saved.lateness_seconds != now.lateness_seconds) {
    return differs("window.allowed_lateness_seconds", saved.lateness_seconds, now.lateness_seconds);
  }
  if (saved.kinds != now.kinds) return differs("entities.kinds", "[" + saved.kinds + "]", "[" + now.kinds + "]");
  if (saved.model != now.model) return differs("detectors.model", saved.model, now.model);
  return {};
}

}  // namespace flowlier::pipeline
