// An in-process module with its AT port opened like a host (echo off) and
// context 1 active: where the socket tests start.
#pragma once

#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "loopback_server.hpp"
#include "module_fixture.hpp"

namespace vmodem::sim::testing {

using e2e::Host;

class SocketFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(m_.ok());
    m_.power_on();
    ASSERT_TRUE(m_.wait_power(PowerState::app_rdy));
    host_.emplace(m_.port());
    ASSERT_TRUE(host_->is_open());
    host_->command("ATE0");
    ASSERT_NE(host_->command("AT+QIACT=1").find("OK"), std::string::npos);
  }
  Host& host() { return *host_; }
  // AT+QIOPEN and its +QIOPEN URC.
  std::string open(const std::string& args) {
    const auto answer = host().command("AT+QIOPEN=" + args);
    if (answer.find("OK") == std::string::npos) return answer;
    return host().read_until("\r\n", 5000ms).empty() ? "" : answer + host().read_until("\r\n");
  }
  std::string open_tcp(int port, int mode = 0) {
    return open("1,0,\"TCP\",\"127.0.0.1\"," + std::to_string(port) + ",0," + std::to_string(mode));
  }

  ModuleHarness m_{builtin()};
  std::optional<Host> host_;
};

}  // namespace vmodem::sim::testing
