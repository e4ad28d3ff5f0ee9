// One config reader for every part of the file: typed getters that never truncate,
// and errors that name the file, the line and the key.
#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>

#include "core/TomlReader.hpp"

using namespace flowlier::core;

namespace {
ConfigDocument parse(const std::string& text) {
  auto parsed = parse_config_document(text, "f.toml");
  REQUIRE(parsed.error.empty());
  return parsed.document;
}
}  // namespace

TEST_CASE("TomlReader: a 64-bit value that does not fit the target is an error, not truncated") {
  // 2^32 + 1 into a std::uint32_t would be 1 with a plain cast.
  const auto doc = parse("[service]\nhwm = 4294967297\n");
  TomlReader r(doc);
  std::uint32_t hwm = 1000;
  r.get("service.hwm", hwm);
  CHECK(hwm == 1000);
  CHECK(r.error() == "f.toml:2: 'service.hwm' must be a non-negative integer no larger than 4294967295");
}

TEST_CASE("TomlReader: integers at the edges of their type") {
  const auto doc = parse("a = 255\nb = 256\nc = -1\nd = 9223372036854775807\ne = 4294967295\n");
  std::uint8_t a = 0;
  std::uint64_t d = 0;
  std::uint32_t e = 0;
  TomlReader ok(doc);
  ok.get("a", a);
  ok.get("d", d);
  ok.get("e", e);
  CHECK(ok.error().empty());
  CHECK(a == 255);
  CHECK(d == 9223372036854775807ull);
  CHECK(e == 4294967295u);

  std::uint8_t b = 7;
  TomlReader too_big(doc);
  too_big.get("b", b);
  CHECK(b == 7);
  CHECK(too_big.error() == "f.toml:2: 'b' must be a non-negative integer no larger than 255");

  // Counts, sizes and durations: never negative, also for signed targets.
  std::int64_t c = 5;
  TomlReader negative(doc);
  negative.get("c", c);
  CHECK(c == 5);
  CHECK(negative.error() == "f.toml:3: 'c' must be a non-negative integer");
}

TEST_CASE("TomlReader: explicit bounds name both ends") {
  const auto doc = parse("x = 0\ny = 70000\nz = 42\n");
  std::size_t x = 1;
  TomlReader r(doc);
  r.get_integer<std::size_t>("x", x, 1, 100);
  CHECK(x == 1);
  CHECK(r.error() == "f.toml:1: 'x' must be an integer from 1 to 100");

  int z = 0;
  TomlReader in_range(doc);
  in_range.get_integer("z", z, -5, 50);
  CHECK(in_range.error().empty());
  CHECK(z == 42);

  std::uint16_t y = 0;
  TomlReader port(doc);
  port.get("y", y);
  CHECK(port.error() == "f.toml:2: 'y' must be a non-negative integer no larger than 65535");
}

TEST_CASE("TomlReader: wrong types name what was expected") {
  const auto doc = parse("n = \"1GiB\"\nf = 1.5\nb = 1\ns = 3\nl = [\"a\", 2]\nt = 4\nd = 3\n");
  const auto error_of = [&](auto value, const char* key) {
    TomlReader r(doc);
    r.get(key, value);
    return r.error();
  };
  CHECK(error_of(std::uint32_t{0}, "n") == "f.toml:1: 'n' must be a non-negative integer no larger than 4294967295");
  CHECK(error_of(std::uint32_t{0}, "f") == "f.toml:2: 'f' must be a non-negative integer no larger than 4294967295");
  CHECK(error_of(false, "n") == "f.toml:1: 'n' must be a boolean");
  CHECK(error_of(std::string(), "s") == "f.toml:4: 's' must be a string");
  CHECK(error_of(std::vector<std::string>(), "l") == "f.toml:5: 'l' must be an array of strings");
  CHECK(error_of(std::map<std::string, std::string>(), "t") == "f.toml:6: 't' must be a table of strings");
  // A number may be written as an integer.
  double d = 0;
  TomlReader r(doc);
  r.get("d", d);
  CHECK(r.error().empty());
  CHECK(d == 3.0);
}

TEST_CASE("TomlReader: absent keys keep their defaults; the first error wins") {
  const auto doc = parse("[window]\nseconds = -1\nlateness = -2\n");
  TomlReader r(doc);
  std::uint32_t absent = 60;
  r.get("window.absent", absent);
  CHECK(absent == 60);
  CHECK(r.ok());
  std::uint32_t seconds = 60, lateness = 120;
  r.get("window.seconds", seconds);
  r.get("window.lateness", lateness);
  r.check(false, "window.seconds", "is never reached");
  CHECK(r.error() == "f.toml:2: 'window.seconds' must be a non-negative integer no larger than 4294967295");
  CHECK(lateness == 120);
}

TEST_CASE("TomlReader: a table's keys are named with its prefix; check falls back to the table's line") {
  const auto doc = parse("[[sinks]]\ntype = \"file\"\nmax_files = 4294967296\n");
  const auto& table = *doc.tree().root.get("sinks")->as_array()->get(0)->as_table();
  TomlReader r(table, doc.source(), "sinks[0].");
  std::uint32_t max_files = 5;
  r.get("max_files", max_files);
  CHECK(r.error() == "f.toml:3: 'sinks[0].max_files' must be a non-negative integer no larger than 4294967295");

  TomlReader missing(table, doc.source(), "sinks[0].");
  missing.check(false, "path", "is required for a file sink");
  CHECK(missing.error() == "f.toml:1: 'sinks[0].path' is required for a file sink");
}

TEST_CASE("TomlReader: unknown keys, in file order, with the nearest known one") {
  const auto doc = parse("[window]\nseconds = 60\nsecond = 1\n[other]\nx = 1\n[sinks]\nanything = 1\n");
  TomlReader r(doc);
  std::uint32_t seconds = 0;
  r.get("window.seconds", seconds);
  r.delegate("sinks");
  r.reject_unknown();
  CHECK(r.error() == "f.toml:3: unknown key 'window.second' (did you mean 'window.seconds'?)");

  const auto flat = parse("type = \"stdout\"\nbogus = 1\n");
  TomlReader sink(flat.tree().root, "c.toml", "sinks[0].");
  std::string type;
  sink.get("type", type);
  sink.reject_unknown(" for a stdout sink");
  CHECK(sink.error() == "c.toml:2: unknown key 'sinks[0].bogus' for a stdout sink");
}

TEST_CASE("ConfigDocument: parse errors and unreadable files name the file") {
  const auto bad = parse_config_document("[window]\nseconds = = 1\n", "bad.toml");
  CHECK(bad.error.rfind("bad.toml:2: ", 0) == 0);
  CHECK(!bad.document.is_loaded());

  const auto missing = load_config_document("/nonexistent/flowlier.toml");
  CHECK(missing.error == "/nonexistent/flowlier.toml: cannot read the config file");

  // Read from disk once: the document keeps the parse, copies share it.
  const auto dir = std::filesystem::temp_directory_path() / "flowlier-toml-reader-test";
  std::filesystem::create_directories(dir);
  const auto path = (dir / "c.toml").string();
  std::ofstream(path) << "[state]\npath = \"x\"\n";
  auto loaded = load_config_document(path);
  REQUIRE(loaded.error.empty());
  std::filesystem::remove_all(dir);  // gone from disk: readers still see it
  const ConfigDocument copy = loaded.document;
  TomlReader r(copy);
  std::string state_path;
  r.get("state.path", state_path);
  CHECK(state_path == "x");
  CHECK(copy.source() == path);

  // The empty document (no file): every key absent.
  TomlReader none{ConfigDocument()};
  std::uint32_t hwm = 1000;
  none.get("service.hwm", hwm);
  none.reject_unknown();
  CHECK(none.ok());
  CHECK(hwm == 1000);
}
