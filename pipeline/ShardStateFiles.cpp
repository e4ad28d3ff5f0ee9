#include "pipeline/ShardStateFiles.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "pipeline/Engine.hpp"
#include "pipeline/IntakeRouter.hpp"

namespace flowlier::pipeline {

std::string shard_state_path(const std::string& path, std::uint32_t index, std::uint32_t count) {
  if (path.empty() || count == 1) return path;
  return fmt::format("{}.shard-{}-of-{}", path, index, count);
}

std::string intake_state_path(const std::string& path) { return path.empty() ? path : path + ".intake"; }

std::uint32_t written_engine_count(const std::string& path, std::string& error) {
  if (path.empty()) return 0;
  namespace fs = std::filesystem;
  const fs::path base(path);
  std::set<std::string> counts;
  if (fs::exists(base)) counts.insert("1");
  const std::string prefix = base.filename().string() + ".shard-";
  std::error_code ec;
  const fs::path dir = base.has_parent_path() ? base.parent_path() : fs::path(".");
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const auto of = name.rfind("-of-");
    if (!name.starts_with(prefix) || name.ends_with(".tmp") || name.ends_with(".journal") ||
        of == std::string::npos)
      continue;
    counts.insert(name.substr(of + 4));
  }
  if (counts.empty()) return 0;
  std::uint32_t count = 0;
  const std::string& written = *counts.begin();
  const auto [end, parsed] = std::from_chars(written.data(), written.data() + written.size(), count);
  if (counts.size() > 1 || parsed != std::errc() || end != written.data() + written.size() || count < 1 ||
      count > 256) {
    error = fmt::format("the states at {} were written by different numbers of engines ({}): keep one set, move "
                        "the others away",
                        path, fmt::join(counts, ", "));
    return 0;
  }
  return count;
}

std::uint32_t choose_engine_count(std::uint32_t configured, const std::string& path, std::uint32_t max_auto,
                                  const std::string& option, std::string& error) {
  const std::uint32_t written = written_engine_count(path, error);
  if (!error.empty()) return 0;
  if (configured == 0) {
    if (written > 0) return written;
    return std::clamp<std::uint32_t>(std::thread::hardware_concurrency(), 1, max_auto);
  }
  if (written > 0 && written != configured) {
    error = fmt::format("the states at {} were written by {} engines, this run has {}: set {} {} (or 0, to follow "
                        "the states), or move them away to start fresh",
                        path, written, configured, option, written);
    return 0;
  }
  return configured;
}

template <typename State>
std::string write_state_file(const State& state, const std::string& path) {
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    state.save(out);
    out.flush();
    if (!out) return fmt::format("cannot write {}", temp);
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) return fmt::format("cannot rename {} to {}: {}", temp, path, ec.message());
  return {};
}
template std::string write_state_file(const Engine&, const std::string&);
template std::string write_state_file(const IntakeRouter&, const std::string&);

template <typename State>
std::string read_state_file(State& state, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fmt::format("cannot read {}", path);
  return state.restore(in);
}
template std::string read_state_file(Engine&, const std::string&);
template std::string read_state_file(IntakeRouter&, const std::string&);

std::string restore_intake(IntakeRouter& intake, const std::string& path,
                           const std::vector<std::unique_ptr<Engine>>& engines, bool engines_restored,
                           std::string& note) {
  if (!path.empty() && std::filesystem::exists(path)) {
    if (!engines_restored) {
      note = fmt::format("ignoring {}: no engine state beside it", path);
    } else if (auto error = read_state_file(intake, path); !error.empty()) {
      return error;
    }
  }
  // The engines all saw the same close points.
  auto& watermark = intake.watermark();
  for (const auto& engine : engines) {
    watermark.restore(std::max(watermark.newest(), engine->watermark().newest()),
                      std::max(watermark.close_point(), engine->last_close_point()));
  }
  return {};
}

}  // namespace flowlier::pipeline
