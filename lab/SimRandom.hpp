#pragma once
// Random draws and calendar helpers shared by the simulator's parts. Every draw comes from
// a std::mt19937_64 stream derived from the seed, so a run is reproducible byte for byte.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace flowlier::lab::sim {

using Rng = std::mt19937_64;

inline constexpr std::int64_t minute = 60;
inline constexpr std::int64_t hour = 3600;
inline constexpr std::int64_t day = 86400;

inline std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Independent streams, so that e.g. --no-incidents leaves benign traffic unchanged.
inline Rng stream(std::uint64_t seed, std::uint64_t id) { return Rng(mix(mix(seed) ^ mix(id + 0x51ab))); }

inline int uniform_int(Rng& rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }
inline double uniform_real(Rng& rng, double lo, double hi) {
  return std::uniform_real_distribution<double>(lo, hi)(rng);
}
inline bool chance(Rng& rng, double p) { return uniform_real(rng, 0.0, 1.0) < p; }
inline int poisson(Rng& rng, double mean) {
  if (mean <= 0) return 0;
  return std::poisson_distribution<int>(mean)(rng);
}
inline double log_uniform(Rng& rng, double lo, double hi) {
  return std::exp(uniform_real(rng, std::log(lo), std::log(hi)));
}
inline std::uint16_t ephemeral_port(Rng& rng) { return static_cast<std::uint16_t>(uniform_int(rng, 32768, 60999)); }
template <class T>
const T& pick(Rng& rng, const std::vector<T>& v) {
  return v[static_cast<std::size_t>(uniform_int(rng, 0, static_cast<int>(v.size()) - 1))];
}

inline std::int64_t floor_to(std::int64_t t, std::int64_t step) { return t - ((t % step) + step) % step; }
inline std::int64_t align_minute(std::int64_t t) { return floor_to(t, minute); }
// Seconds since midnight UTC.
inline std::int64_t second_of_day(std::int64_t t) { return ((t % day) + day) % day; }
inline double hour_of_day(std::int64_t t) { return static_cast<double>(second_of_day(t)) / hour; }
// 0 = Sunday (1970-01-01 was a Thursday).
inline int day_of_week(std::int64_t t) {
  const std::int64_t days = floor_to(t, day) / day;
  return static_cast<int>(((days + 4) % 7 + 7) % 7);
}
inline bool weekend(std::int64_t t) {
  const int d = day_of_week(t);
  return d == 0 || d == 6;
}

}  // namespace flowlier::lab::sim
