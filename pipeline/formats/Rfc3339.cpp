#include "pipeline/formats/Rfc3339.hpp"

#include "core/TimeMath.hpp"

namespace flowlier::pipeline::formats {

namespace {

constexpr std::int64_t kNsPerSecond = 1'000'000'000;
constexpr std::int64_t kSecondsPerDay = core::kSecondsPerDay;

struct CivilDate {
  std::int64_t year;
  unsigned month;
  unsigned day;
};

// H. Hinnant's civil_from_days (public domain algorithm), exact for all int64 days we see.
CivilDate civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned day = doy - (153 * mp + 2) / 5 + 1;
  const unsigned month = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t year = static_cast<std::int64_t>(yoe) + era * 400 + (month <= 2 ? 1 : 0);
  return {year, month, day};
}

bool is_leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(std::int64_t year, unsigned month) {
  static constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `n` digits at text[pos]; false when any is not a digit.
bool read_digits(std::string_view text, std::size_t pos, std::size_t n, unsigned& out) {
  if (pos + n > text.size()) return false;
  unsigned v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = text[pos + i];
    if (!is_digit(c)) return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  out = v;
  return true;
}

void append_digits(std::string& out, std::int64_t value, int width) {
  char buf[20];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value > 0 && n < 20);
  for (int i = n; i < width; ++i) out.push_back('0');
  while (n > 0) out.push_back(buf[--n]);
}

void append_datetime(std::string& out, std::int64_t unix_ns, bool millis) {
  const std::int64_t seconds = core::floor_div(unix_ns, kNsPerSecond);  // pre-1970 instants on the right second
  std::int64_t sub_ns = unix_ns % kNsPerSecond;  // not unix_ns - seconds * 1e9: that overflows at INT64_MIN
  if (sub_ns < 0) sub_ns += kNsPerSecond;
  const std::int64_t days = core::floor_div(seconds, kSecondsPerDay);
  const std::int64_t sod = seconds - days * kSecondsPerDay;
  const CivilDate date = civil_from_days(days);
  append_digits(out, date.year, 4);
  out.push_back('-');
  append_digits(out, date.month, 2);
  out.push_back('-');
  append_digits(out, date.day, 2);
  out.push_back('T');
  append_digits(out, sod / 3600, 2);
  out.push_back(':');
  append_digits(out, sod / 60 % 60, 2);
  out.push_back(':');
  append_digits(out, sod % 60, 2);
  if (millis) {
    out.push_back('.');
    append_digits(out, sub_ns / 1'000'000, 3);
  }
  out.push_back('Z');
}

}  // namespace

std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) {
  year -= month <= 2 ? 1 : 0;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto yoe = static_cast<unsigned>(year - era * 400);
  const unsigned doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::optional<std::int64_t> parse_rfc3339(std::string_view text) {
  unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  // Fixed-position part: YYYY-MM-DDTHH:MM:SS (19 characters).
  if (text.size() < 20) return std::nullopt;
  if (!read_digits(text, 0, 4, year) || text[4] != '-' || !read_digits(text, 5, 2, month) ||
      text[7] != '-' || !read_digits(text, 8, 2, day) || (text[10] != 'T' && text[10] != 't') ||
      !read_digits(text, 11, 2, hour) || text[13] != ':' || !read_digits(text, 14, 2, minute) ||
      text[16] != ':' || !read_digits(text, 17, 2, second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) return std::nullopt;
  if (hour > 23 || minute > 59 || second > 60) return std::nullopt;

  std::size_t pos = 19;
  std::int64_t fraction_ns = 0;
  if (text[pos] == '.') {
    ++pos;
    std::size_t digits = 0;
    while (pos < text.size() && is_digit(text[pos])) {
      if (++digits > 9) return std::nullopt;
      fraction_ns = fraction_ns * 10 + (text[pos] - '0');
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (std::size_t i = digits; i < 9; ++i) fraction_ns *= 10;
  }

  if (pos >= text.size()) return std::nullopt;  // the zone is mandatory
  std::int64_t offset_seconds = 0;
  const char zone = text[pos];
  if (zone == 'Z' || zone == 'z') {
    ++pos;
  } else if (zone == '+' || zone == '-') {
    unsigned oh = 0, om = 0;
    if (!read_digits(text, pos + 1, 2, oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !read_digits(text, pos + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_seconds = (zone == '+' ? 1 : -1) * static_cast<std::int64_t>(oh * 3600 + om * 60);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;

  const std::int64_t seconds = days_from_civil(year, month, day) * kSecondsPerDay + hour * 3600 +
                               minute * 60 + second - offset_seconds;
  std::int64_t ns = 0;
  if (__builtin_mul_overflow(seconds, kNsPerSecond, &ns) || __builtin_add_overflow(ns, fraction_ns, &ns)) {
    return std::nullopt;
  }
  return ns;
}

void append_rfc3339(std::string& out, std::int64_t unix_ns) { append_datetime(out, unix_ns, false); }
void append_rfc3339_millis(std::string& out, std::int64_t unix_ns) { append_datetime(out, unix_ns, true); }

std::string format_rfc3339(std::int64_t unix_ns) {
  std::string out;
  out.reserve(20);
  append_rfc3339(out, unix_ns);
  return out;
}

std::string format_rfc3339_millis(std::int64_t unix_ns) {
  std::string out;
  out.reserve(24);
  append_rfc3339_millis(out, unix_ns);
  return out;
}

}  // namespace flowlier::pipeline::formats
