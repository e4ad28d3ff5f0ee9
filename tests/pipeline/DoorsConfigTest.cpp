// Wrong configuration is refused with the key, its line and why (issue: every door
// checks what comes in), and a state file is refused by an engine configured otherwise.
#include <catch2/catch.hpp>
#include <sstream>

#include "core/StateIo.hpp"
#include "pipeline/Config.hpp"
#include "pipeline/Engine.hpp"
#include "pipeline/StateSettings.hpp"

using namespace flowlier::pipeline;

TEST_CASE("Config: severity thresholds must be ordered") {
  const auto wrong = parse_config("[scoring]\nlow = 90.0\ncritical = 50.0\n", "t.toml");
  CHECK(wrong.error.find("'scoring'") != std::string::npos);
  CHECK(wrong.error.find("low < medium < high < critical") != std::string::npos);
  CHECK(wrong.error.find("low = 90") != std::string::npos);
  CHECK(wrong.error.find("critical = 50") != std::string::npos);
  const auto equal = parse_config("[scoring]\nmedium = 75.0\nhigh = 75.0\n", "t.toml");
  CHECK_FALSE(equal.error.empty());
  CHECK(parse_config("[scoring]\nlow = 10.0\nmedium = 20.0\nhigh = 30.0\ncritical = 40.0\n", "t.toml").error.empty());
}

TEST_CASE("Config: endpoints are checked when the file is read") {
  const auto port = parse_config("[endpoints]\nflows_in = \"tcp://127.0.0.1:notaport\"\n", "t.toml");
  CHECK(port.error ==
        "t.toml:2: 'endpoints.flows_in' 'tcp://127.0.0.1:notaport' is not a ZeroMQ endpoint: port "
        "'notaport' is not a number from 0 to 65535 or *");
  CHECK(parse_config("[endpoints]\nevents_out = \"udp://x:1\"\n", "t.toml").error.find("unknown transport 'udp'") !=
        std::string::npos);
  CHECK(parse_config("[endpoints]\nevents_out = \"127.0.0.1:7702\"\n", "t.toml").error.find("expected tcp://") !=
        std::string::npos);
  CHECK_FALSE(parse_config("[service]\nshards = [\"tcp://a:1\", \"tcp://b:0\"]\n", "t.toml").error.empty());
  CHECK_FALSE(parse_config("[service]\npublish_to = \"tcp://a:*\"\n", "t.toml").error.empty());
  CHECK(parse_config("[endpoints]\nflows_in = \"tcp://*:*\"\nevents_out = \"ipc:///tmp/x\"\n[service]\n"
                     "listen = \"inproc://y\"\npublish_to = \"tcp://[::1]:9\"\n",
                     "t.toml")
            .error.empty());
  CHECK(zmq_endpoint_error("tcp://127.0.0.1:65536", true).find("65536") != std::string::npos);
  CHECK(zmq_endpoint_error("tcp://h:7701", false).empty());
}

TEST_CASE("Config: an unknown key offers the nearest known one") {
  CHECK(parse_config("[window]\nsecond = 30\n", "t.toml").error ==
        "t.toml:2: unknown key 'window.second' (did you mean 'window.seconds'?)");
  CHECK(parse_config("[scoring]\ncritcal = 95.0\n", "t.toml").error.ends_with("(did you mean 'scoring.critical'?)"));
  // Nothing near: no guess.
  CHECK(parse_config("[bogus]\nwhatever = 1\n", "t.toml").error == "t.toml:2: unknown key 'bogus.whatever'");
}

namespace {
std::string saved_state(const EngineConfig& config) {
  Engine engine(config);
  std::ostringstream out;
  engine.save(out);
  return out.str();
}
}  // namespace

TEST_CASE("State: an engine configured otherwise refuses the state, naming both values") {
  EngineConfig sixty;
  sixty.windows.window_seconds = 60;
  const std::string state = saved_state(sixty);

  EngineConfig thirty = sixty;
  thirty.windows.window_seconds = 30;
  Engine other(thirty);
  std::istringstream in(state);
  const auto error = other.restore(in);
  CHECK(error.find("window.seconds = 60") != std::string::npos);
  CHECK(error.find("window.seconds = 30") != std::string::npos);

  EngineConfig late = sixty;
  late.windows.allowed_lateness_seconds = 300;
  std::istringstream in2(state);
  CHECK(Engine(late).restore(in2).find("window.allowed_lateness_seconds") != std::string::npos);

  EngineConfig kinds = sixty;
  kinds.router.kinds = {flowlier::models::EntityKind::address};
  std::istringstream in3(state);
  CHECK(Engine(kinds).restore(in3).find("entities.kinds = [interface,address]") != std::string::npos);

  EngineConfig model = sixty;
  model.model = BaselineModel::trailing_outlier;
  std::istringstream in4(state);
  const auto model_error = Engine(model).restore(in4);
  CHECK(model_error.find("detectors.model = flowlier") != std::string::npos);
  CHECK(model_error.find("detectors.model = trailing-outlier") != std::string::npos);

  // The same settings restore; what only tunes scoring may differ.
  EngineConfig tuned = sixty;
  tuned.scoring.critical = 95;
  std::istringstream in5(state);
  CHECK(Engine(tuned).restore(in5).empty());
}

TEST_CASE("State: a state written before the settings record is still read") {
  const std::string state = saved_state({});
  std::istringstream in(state);
  flowlier::detectors::RawRecord settings;
  REQUIRE(flowlier::detectors::read_record(in, settings).empty());
  REQUIRE(settings.tag == "settings");
  const std::string engine_only = state.substr(static_cast<std::size_t>(in.tellg()));
  std::istringstream old(engine_only);
  Engine engine({});
  CHECK(engine.restore(old).empty());
}
