#pragma once

// A port engine driven by hand: fake clock, V.250 basics installed, output
// collected as a string.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include <vmodem/at/engine.hpp>
#include <vmodem/at/registry.hpp>

namespace vmodem::at::testing {

class EngineFixture : public ::testing::Test {
 protected:
  EngineFixture() { install_v250_commands(registry_); }

  // Builds the engine; call after registering test commands.
  Engine& engine(EngineConfig config = {}) {
    if (!engine_) {
      config.now = [this] { return now_; };
      engine_ = std::make_unique<Engine>(registry_, std::move(config));
    }
    return *engine_;
  }

  // Feeds everything (asserting it was all consumed) and returns the output.
  std::string send(std::string_view bytes) {
    const std::size_t used = engine().feed(bytes);
    EXPECT_EQ(used, bytes.size()) << "engine stopped consuming input";
    return engine().take_output();
  }

  // Same, with echo switched off first so outputs are only responses.
  std::string send_quiet_echo(std::string_view bytes) {
    engine().settings().echo = false;
    return send(bytes);
  }

  void advance(std::chrono::milliseconds step) {
    now_ += step;
    engine().poll();
  }

  void add(std::string_view name, CommandSpec spec) {
    ASSERT_TRUE(registry_.add(name, std::move(spec)).has_value()) << name;
  }

  Registry registry_;
  Clock::time_point now_{std::chrono::seconds(1000)};
  std::unique_ptr<Engine> engine_;
};

// A handler that answers OK at once.
inline Handler answer_ok() {
  return [](Call& call) { call.responder.ok(); };
}

// A handler that prints one information line then OK.
inline Handler answer_info(std::string line) {
  return [line = std::move(line)](Call& call) {
    call.responder.info(line);
    call.responder.ok();
  };
}

}  // namespace vmodem::at::testing
