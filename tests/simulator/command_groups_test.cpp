// The command groups run on stand-ins for the parts of the module they are
// given (module_services.hpp), with no Module, flash or port: what each group
// asks of the module is exactly its interface.
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <vmodem/at/engine.hpp>
#include <vmodem/at/registry.hpp>
#include <vmodem/simulator/module_services.hpp>

#include "commands/command_set.hpp"
#include "module/nv_settings.hpp"

namespace vmodem::sim {
namespace {

class RecordingPower final : public PowerControl {
 public:
  PowerState state = PowerState::rdy;
  std::vector<std::string> requests;

  PowerState power_state() const override { return state; }
  void request_reset() override { requests.push_back("reset"); }
  void request_power_down(bool immediate) override {
    requests.push_back(immediate ? "power down now" : "power down");
  }
  void on_power_state(std::function<void(PowerState)>) override {}
};

class NoFileSystems final : public FileSystems {
 public:
  int asked = 0;
  fs::SharedFileSystem* file_system(std::string_view) override { return ++asked, nullptr; }
  fs::SharedFileSystem* file_system(FsRole) override { return ++asked, nullptr; }
  fs::BackupEngine* backup_engine(FsRole) override { return ++asked, nullptr; }
};

class FixedFirmware final : public FirmwareUpdate {
 public:
  std::string version = "BG95M3LAR02A03";
  std::string firmware_version() const override { return version; }
  int stage_firmware_update(std::span<const std::uint8_t>) override { return 0; }
};

class CommandGroups : public ::testing::Test {
 protected:
  CommandGroups() { at::install_v250_commands(registry_); }

  std::string send(const std::string& line) {
    if (!engine_) engine_ = std::make_unique<at::Engine>(registry_, at::EngineConfig{});
    engine_->settings().echo = false;
    EXPECT_EQ(engine_->feed(line + "\r"), line.size() + 1);
    return engine_->take_output();
  }

  at::Registry registry_;
  std::unique_ptr<at::Engine> engine_;
  RecordingPower power_;
  NoFileSystems file_systems_;
  FixedFirmware firmware_;
  NvSettings nv_;
  RuntimeState radio_;
  NetworkConfig network_{};
};

// The module carries the request out after the handler returns (posted), so
// the OK reaches the host first.
TEST_F(CommandGroups, PowerCommandsAnswerOkAndAskTheModuleForTheTransition) {
  register_power_commands(registry_, power_, radio_);
  EXPECT_EQ(send("AT+CFUN=1,4"), "\r\nERROR\r\n");
  EXPECT_TRUE(power_.requests.empty());
  EXPECT_EQ(send("AT+CFUN=1,1"), "\r\nOK\r\n");
  EXPECT_EQ(power_.requests, std::vector<std::string>{"reset"});
  EXPECT_EQ(send("AT+QPOWD=0"), "\r\nOK\r\n");
  EXPECT_EQ(power_.requests.back(), "power down now");
}

TEST_F(CommandGroups, TheRadioStateIsSharedBetweenThePowerAndNetworkGroups) {
  register_power_commands(registry_, power_, radio_);
  register_network_commands(registry_, network_, nv_, radio_);
  EXPECT_EQ(send("AT+CREG?"), "\r\n+CREG: 0,1\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+CFUN=0"), "\r\nOK\r\n");
  EXPECT_EQ(radio_.cfun, 0);
  EXPECT_EQ(send("AT+CREG?"), "\r\n+CREG: 0,0\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+CSQ"), "\r\n+CSQ: 99,99\r\n\r\nOK\r\n");
}

TEST_F(CommandGroups, ApBackupFormsAreRefusedBeforeAppRdyWithoutTouchingTheFileSystems) {
  register_backup_commands(registry_, BackupConfig{}, power_, file_systems_);
  power_.state = PowerState::rdy;
  EXPECT_EQ(send("AT+QPRTPARA=11"), "\r\nERROR\r\n");
  EXPECT_EQ(file_systems_.asked, 0);
  // The modem forms ask for the modem file system; none is mounted: ERROR.
  EXPECT_EQ(send("AT+QPRTPARA=4"), "\r\nERROR\r\n");
  EXPECT_GT(file_systems_.asked, 0);
}

TEST_F(CommandGroups, IdentityFollowsTheRunningFirmwareWithoutReRegistering) {
  Identity id;
  id.manufacturer = "Quectel";
  id.model = "BG95-M3";
  register_identity_commands(registry_, id, firmware_);
  EXPECT_EQ(send("AT+CGMR"), "\r\nBG95M3LAR02A03\r\n\r\nOK\r\n");
  firmware_.version = "BG95M3LAR02A04";
  EXPECT_EQ(send("ATI"), "\r\nQuectel\r\nBG95-M3\r\nRevision: BG95M3LAR02A04\r\n\r\nOK\r\n");
}

TEST_F(CommandGroups, StartUpStatusCommandsAnswerAsTheStandardsSay) {
  register_status_commands(registry_, network_, radio_);
  EXPECT_EQ(send("AT+CPAS"), "\r\n+CPAS: 0\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+CBC"), "\r\n+CBC: 0,100,3800\r\n\r\nOK\r\n");
  EXPECT_EQ(send("ATH"), "\r\nOK\r\n");
  EXPECT_EQ(send("AT+IFC?"), "\r\n+IFC: 0,0\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+IFC=2,2"), "\r\nOK\r\n");
  EXPECT_EQ(send("AT+IFC=1,1"), "\r\nERROR\r\n") << "only none (0) or RTS/CTS (2)";
  EXPECT_EQ(send("AT+IFC?"), "\r\n+IFC: 2,2\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+CGEREP=1"), "\r\nOK\r\n");
  EXPECT_EQ(send("AT+CGEREP?"), "\r\n+CGEREP: 1,0\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+CESQ"), "\r\n+CESQ: 99,99,255,255,20,72\r\n\r\nOK\r\n");
  radio_.cfun = 0;
  EXPECT_EQ(send("AT+CESQ"), "\r\n+CESQ: 99,99,255,255,255,255\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+QLTS"), "\r\n+QLTS: \"\"\r\n\r\nOK\r\n") << "no network, no network time";
}

TEST_F(CommandGroups, TheClockKeepsTheTimeAtCclkSet) {
  register_status_commands(registry_, network_, radio_);
  EXPECT_EQ(send("AT+CCLK=\"31/12/30,23:59:50+00\""), "\r\nOK\r\n");
  const std::string read = send("AT+CCLK?");
  // The same second, or the next one if the clock ticked in between.
  EXPECT_TRUE(read.starts_with("\r\n+CCLK: \"31/12/30,23:59:5")) << read;
  EXPECT_EQ(send("AT+CCLK=\"31/13/30,23:59:50+00\""), "\r\nERROR\r\n");
  EXPECT_EQ(send("AT+CCLK=\"yesterday\""), "\r\nERROR\r\n");
  const std::string lts = send("AT+QLTS");
  EXPECT_TRUE(lts.starts_with("\r\n+QLTS: \"2031/12/30,23:59:5")) << lts;
}

}  // namespace
}  // namespace vmodem::sim
