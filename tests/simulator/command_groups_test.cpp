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
#include "commands/sim_card.hpp"
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

class RecordingUrcs final : public UrcSink {
 public:
  std::vector<std::string> lines;
  void send_urc(const std::string& line) override { lines.push_back(line); }
  std::vector<std::string> take() { return std::exchange(lines, {}); }
};

class CommandGroups : public ::testing::Test {
 protected:
  CommandGroups() { at::install_v250_commands(registry_); }

  std::string send(const std::string& line) {
    if (!engine_) engine_ = std::make_unique<at::Engine>(registry_, at::EngineConfig{});
    engine_->settings().echo = false;
    engine_->settings().cmee = at::CmeeMode::kNumeric;
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

// The SIM group on stand-ins: a profile's card, NV in memory, the radio
// state, URCs recorded. The module's gate is the SIM gate alone.
class SimCommands : public CommandGroups {
 protected:
  SimCommands() {
    profile_.identity.iccid = "89860117838009876543";
    profile_.identity.imsi = "460011234567890";
    profile_.network.tac = "1A2B";
    profile_.network.cell_id = "01A2D101";
    profile_.network.act = 8;
    profile_.network.operator_long = "vmodem Test Network";
    profile_.network.operator_short = "vmodem";
    profile_.network.mcc_mnc = "00101";
    profile_.boot.urcs_after_rdy = {{"+CFUN: 1", 0},
                                    {"+CPIN: READY", 0},
                                    {"+QUSIM: 1", 0},
                                    {"+QIND: SMS DONE", 0},
                                    {"+QIND: PB DONE", 0}};
    register_sim_commands(registry_, sim_);
    register_network_commands(registry_, profile_.network, nv_, radio_);
    register_identity_commands(registry_, profile_.identity, firmware_);
    register_indicator_commands(registry_, profile_.network, radio_);
    registry_.set_gate([this](const at::Command& command, std::uint32_t tag) {
      return sim_gate(sim_, command, tag);
    });
  }
  // A boot with the card's lock as the profile and NV say.
  void boot(bool locked) {
    profile_.sim.pin_enabled = locked;
    sim_.power_on();
  }

  Profile profile_;
  RecordingUrcs urcs_;
  std::vector<int> lost_contexts_;
  SimCard sim_{SimCard::Parts{.profile = profile_,
                              .nv = nv_,
                              .radio = radio_,
                              .urcs = urcs_,
                              .power = power_,
                              .context_lost = [this](int cid) { lost_contexts_.push_back(cid); }}};
};

TEST_F(SimCommands, AnUnlockedCardIsReadyAndAnswersItsFiles) {
  boot(false);
  EXPECT_EQ(send("AT+CPIN?"), "\r\n+CPIN: READY\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+CPIN=?"), "\r\nOK\r\n");
  EXPECT_EQ(send("AT+CPIN=\"1234\""), "\r\n+CME ERROR: 3\r\n") << "no PIN is asked for";
  EXPECT_EQ(send("AT+CIMI"), "\r\n460011234567890\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+CLCK=\"SC\",2"), "\r\n+CLCK: 0\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+CLCK=?"), "\r\n+CLCK: (\"SC\")\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+QPINC?"), "\r\n+QPINC: \"SC\",3,10\r\n+QPINC: \"P2\",3,10\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+QPINC=\"SC\""), "\r\n+QPINC: \"SC\",3,10\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+QPINC=\"XX\""), "\r\nERROR\r\n");
  EXPECT_EQ(send("AT+QPINC=?"), "\r\n+QPINC: (\"SC\",\"P2\")\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+CNUM"), "\r\nOK\r\n") << "no number on the card: an empty list";
  profile_.sim.msisdn = "+15551234567";
  EXPECT_EQ(send("AT+CNUM"), "\r\n+CNUM: \"\",\"+15551234567\",145\r\n\r\nOK\r\n");
  profile_.sim.msisdn = "5551234";
  EXPECT_EQ(send("AT+CNUM"), "\r\n+CNUM: \"\",\"5551234\",129\r\n\r\nOK\r\n");
  EXPECT_TRUE(urcs_.lines.empty());
}

TEST_F(SimCommands, CrsmReadsIccidAndImsiInTheirFileFormats) {
  boot(false);
  // EF ICCID: BCD, the nibbles of each byte swapped.
  EXPECT_EQ(send("AT+CRSM=176,12258,0,0,10"),
            "\r\n+CRSM: 144,0,\"98681071380890785634\"\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+CRSM=176,12258,0,0,0"),
            "\r\n+CRSM: 144,0,\"98681071380890785634\"\r\n\r\nOK\r\n")
      << "P3 0: the whole file";
  EXPECT_EQ(send("AT+CRSM=176,12258,0,8,2"), "\r\n+CRSM: 144,0,\"5634\"\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+CRSM=176,12258,0,8,5"), "\r\n+CRSM: 108,2\r\n\r\nOK\r\n")
      << "6Cxx: only xx bytes are left";
  EXPECT_EQ(send("AT+CRSM=176,12258,0,10,1"), "\r\n+CRSM: 107,0\r\n\r\nOK\r\n");
  // EF IMSI: the length, then a parity nibble (9: odd count) before the digits.
  EXPECT_EQ(send("AT+CRSM=176,28423,0,0,9"),
            "\r\n+CRSM: 144,0,\"084906102143658709\"\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+CRSM=192,28423"),
            "\r\n+CRSM: 144,0,\"620F8202412183026F078A0105800200"
            "09\"\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+CRSM=176,28486,0,0,17"), "\r\n+CRSM: 106,130\r\n\r\nOK\r\n")
      << "a file the card does not have (EF SPN)";
  EXPECT_EQ(send("AT+CRSM=214,28423,0,0,9,\"FFFFFFFFFFFFFFFFFF\""),
            "\r\n+CRSM: 105,130\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+CRSM=242"), "\r\n+CRSM: 144,0\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+CRSM=177,28423,0,0,9"), "\r\nERROR\r\n") << "not a 27.007 command";
  EXPECT_EQ(send("AT+CRSM=176"), "\r\nERROR\r\n");
  EXPECT_EQ(send("AT+CRSM=176,\"x\",0,0,9"), "\r\nERROR\r\n");
  // An even number of IMSI digits: parity 1, the last nibble F.
  profile_.identity.imsi = "46001123456789";
  EXPECT_EQ(send("AT+CRSM=176,28423,0,0,9"),
            "\r\n+CRSM: 144,0,\"0841061021436587F9\"\r\n\r\nOK\r\n");
}

TEST_F(SimCommands, WrongPinsCountDownToThePukWhichUnblocksWithANewPin) {
  boot(true);
  EXPECT_EQ(send("AT+CPIN?"), "\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+CIMI"), "\r\n+CME ERROR: 11\r\n");
  EXPECT_EQ(send("AT+CIMI=?"), "\r\nOK\r\n") << "test forms answer whatever the card";
  EXPECT_EQ(send("AT+CNUM"), "\r\n+CME ERROR: 11\r\n");
  EXPECT_EQ(send("AT+QCCID"), "\r\n+QCCID: 89860117838009876543\r\n\r\nOK\r\n")
      << "the ICCID needs no PIN";
  EXPECT_EQ(send("AT+CRSM=176,28423,0,0,9"), "\r\n+CRSM: 105,130\r\n\r\nOK\r\n")
      << "EF IMSI needs the PIN: 6982";
  EXPECT_EQ(send("AT+CREG?"), "\r\n+CREG: 0,0\r\n\r\nOK\r\n") << "no registration while locked";
  EXPECT_FALSE(radio_.registered());
  EXPECT_EQ(send("AT+CPIN=\"12\""), "\r\nERROR\r\n") << "not a PIN: no retry spent";
  EXPECT_EQ(send("AT+CPIN=\"0000\""), "\r\n+CME ERROR: 16\r\n");
  EXPECT_EQ(send("AT+QPINC=\"SC\""), "\r\n+QPINC: \"SC\",2,10\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+CPIN=\"0000\""), "\r\n+CME ERROR: 16\r\n");
  EXPECT_TRUE(urcs_.take().empty());
  EXPECT_EQ(send("AT+CPIN=\"0000\""), "\r\n+CME ERROR: 12\r\n") << "the last one: PUK required";
  EXPECT_EQ(urcs_.take(), std::vector<std::string>{"+CPIN: SIM PUK"});
  EXPECT_EQ(send("AT+CPIN?"), "\r\n+CPIN: SIM PUK\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+CIMI"), "\r\n+CME ERROR: 12\r\n");
  EXPECT_EQ(send("AT+CPIN=\"1234\""), "\r\n+CME ERROR: 12\r\n") << "the PIN alone is no use";
  EXPECT_EQ(send("AT+CPIN=\"1234\",\"4321\""), "\r\nERROR\r\n") << "a PUK has 8 digits";
  EXPECT_EQ(send("AT+CPIN=\"00000000\",\"4321\""), "\r\n+CME ERROR: 16\r\n");
  EXPECT_EQ(send("AT+QPINC=\"SC\""), "\r\n+QPINC: \"SC\",0,9\r\n\r\nOK\r\n");

  radio_.creg_n = 1;
  EXPECT_EQ(send("AT+CPIN=\"12345678\",\"4321\""), "\r\nOK\r\n");
  EXPECT_EQ(urcs_.take(), (std::vector<std::string>{"+CPIN: READY", "+QUSIM: 1", "+QIND: SMS DONE",
                                                    "+QIND: PB DONE", "+CREG: 1"}))
      << "the SIM-ready URCs the boot held back, then registration";
  EXPECT_EQ(send("AT+QPINC=\"SC\""), "\r\n+QPINC: \"SC\",3,10\r\n\r\nOK\r\n");
  EXPECT_TRUE(radio_.registered());
  EXPECT_EQ(send("AT+CLCK=\"SC\",2"), "\r\n+CLCK: 1\r\n\r\nOK\r\n") << "still locked";

  // The next boot asks for the new PIN.
  boot(true);
  EXPECT_EQ(send("AT+CPIN?"), "\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+CPIN=\"1234\""), "\r\n+CME ERROR: 16\r\n");
  EXPECT_EQ(send("AT+CPIN=\"4321\""), "\r\nOK\r\n");
  EXPECT_EQ(send("AT+QPINC=\"SC\""), "\r\n+QPINC: \"SC\",3,10\r\n\r\nOK\r\n")
      << "a right PIN gives the retries back";
}

TEST_F(SimCommands, TenWrongPuksKillTheCard) {
  boot(true);
  for (int i = 0; i < 3; ++i)
    (void)send("AT+CPIN=\"0000\"");
  for (int i = 0; i < 9; ++i)
    EXPECT_EQ(send("AT+CPIN=\"00000000\",\"1111\""), "\r\n+CME ERROR: 16\r\n") << i;
  EXPECT_EQ(send("AT+CPIN=\"00000000\",\"1111\""), "\r\n+CME ERROR: 13\r\n");
  EXPECT_EQ(sim_.state(), SimState::blocked);
  EXPECT_EQ(send("AT+CPIN?"), "\r\n+CME ERROR: 13\r\n");
  EXPECT_EQ(send("AT+CPIN=\"12345678\",\"1111\""), "\r\n+CME ERROR: 13\r\n");
  EXPECT_EQ(send("AT+QCCID"), "\r\n+CME ERROR: 13\r\n");
  // Only a new card helps.
  EXPECT_TRUE(sim_.insert(/*fresh=*/true));
  EXPECT_EQ(sim_.state(), SimState::pin_required);
  EXPECT_EQ(send("AT+QPINC=\"SC\""), "\r\n+QPINC: \"SC\",3,10\r\n\r\nOK\r\n");
}

TEST_F(SimCommands, ClckAndCpwdChangeTheLockKeptInNv) {
  boot(false);
  EXPECT_EQ(send("AT+CLCK=\"SC\",1"), "\r\nERROR\r\n") << "locking needs the PIN";
  EXPECT_EQ(send("AT+CLCK=\"SC\",1,\"9999\""), "\r\n+CME ERROR: 16\r\n");
  EXPECT_EQ(send("AT+CLCK=\"SC\",1,\"1234\""), "\r\nOK\r\n");
  EXPECT_EQ(nv_.values().sim.pin_enabled, true);
  EXPECT_EQ(nv_.values().sim.pin_retries, 3) << "the right PIN restored the retry";
  EXPECT_EQ(send("AT+CLCK=\"SC\",2"), "\r\n+CLCK: 1\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+CPIN?"), "\r\n+CPIN: READY\r\n\r\nOK\r\n") << "entered just now";
  EXPECT_EQ(send("AT+CLCK=\"AO\",2"), "\r\n+CME ERROR: 4\r\n") << "no call barring";
  EXPECT_EQ(send("AT+CPWD=\"SC\",\"1234\",\"56789\""), "\r\nOK\r\n");
  EXPECT_EQ(nv_.values().sim.pin, "56789");
  EXPECT_EQ(send("AT+CPWD=\"SC\",\"1234\",\"1111\""), "\r\n+CME ERROR: 16\r\n");
  EXPECT_EQ(send("AT+CPWD=\"SC\",\"56789\",\"1\""), "\r\nERROR\r\n");
  EXPECT_EQ(send("AT+CPWD=\"P2\",\"1234\",\"1111\""), "\r\n+CME ERROR: 4\r\n");
  EXPECT_EQ(send("AT+CPWD=?"), "\r\n+CPWD: (\"SC\",8)\r\n\r\nOK\r\n");
  boot(false);  // the profile says unlocked; NV says locked
  EXPECT_EQ(send("AT+CPIN?"), "\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+CLCK=\"SC\",0,\"56789\""), "\r\n+CME ERROR: 11\r\n") << "enter the PIN first";
  EXPECT_EQ(send("AT+CPIN=\"56789\""), "\r\nOK\r\n");
  EXPECT_EQ(send("AT+CLCK=\"SC\",0,\"56789\""), "\r\nOK\r\n");
  EXPECT_EQ(send("AT+CPWD=\"SC\",\"56789\",\"1111\""), "\r\n+CME ERROR: 3\r\n")
      << "a disabled PIN cannot be changed";
  boot(false);
  EXPECT_EQ(send("AT+CPIN?"), "\r\n+CPIN: READY\r\n\r\nOK\r\n");
}

TEST_F(SimCommands, RemovalSendsItsUrcsAndTakesRegistrationAndContexts) {
  boot(false);
  radio_.creg_n = 1;
  radio_.cereg_n = 2;
  radio_.active_contexts = {1, 3};
  EXPECT_EQ(send("AT+QSIMSTAT?"), "\r\n+QSIMSTAT: 0,1\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+QSIMSTAT=1"), "\r\nOK\r\n");
  EXPECT_EQ(send("AT+QSIMSTAT=2"), "\r\nERROR\r\n");
  EXPECT_TRUE(sim_.remove());
  EXPECT_EQ(urcs_.take(), (std::vector<std::string>{"+QSIMSTAT: 1,0", "+CPIN: NOT READY",
                                                    "+CREG: 0", "+CEREG: 0"}));
  EXPECT_EQ(lost_contexts_, (std::vector<int>{1, 3}));
  EXPECT_TRUE(radio_.active_contexts.empty());
  EXPECT_FALSE(sim_.remove()) << "already out";
  EXPECT_EQ(send("AT+CPIN?"), "\r\n+CME ERROR: 10\r\n");
  EXPECT_EQ(send("AT+CPIN=\"1234\""), "\r\n+CME ERROR: 10\r\n");
  EXPECT_EQ(send("AT+QCCID"), "\r\n+CME ERROR: 10\r\n");
  EXPECT_EQ(send("AT+CIMI"), "\r\n+CME ERROR: 10\r\n");
  EXPECT_EQ(send("AT+CRSM=176,12258,0,0,10"), "\r\n+CME ERROR: 10\r\n");
  EXPECT_EQ(send("AT+QPINC?"), "\r\n+CME ERROR: 10\r\n");
  EXPECT_EQ(send("AT+QSIMSTAT?"), "\r\n+QSIMSTAT: 1,0\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+CEREG?"), "\r\n+CEREG: 2,0\r\n\r\nOK\r\n");

  EXPECT_TRUE(sim_.insert(false));
  EXPECT_EQ(urcs_.take(), (std::vector<std::string>{"+QSIMSTAT: 1,1", "+CPIN: READY", "+QUSIM: 1",
                                                    "+QIND: SMS DONE", "+QIND: PB DONE", "+CREG: 1",
                                                    "+CEREG: 1,\"1A2B\",\"01A2D101\",8"}));
  EXPECT_EQ(send("AT+CEREG?"), "\r\n+CEREG: 2,1,\"1A2B\",\"01A2D101\",8\r\n\r\nOK\r\n");
  EXPECT_TRUE(radio_.active_contexts.empty()) << "the host activates its contexts again";
}

TEST_F(SimCommands, ALockedCardComesBackAskingForItsPin) {
  boot(true);
  ASSERT_EQ(send("AT+CPIN=\"1234\""), "\r\nOK\r\n");
  (void)urcs_.take();
  radio_.cereg_n = 1;
  EXPECT_TRUE(sim_.remove());
  EXPECT_EQ(urcs_.take(), (std::vector<std::string>{"+CPIN: NOT READY", "+CEREG: 0"}));
  EXPECT_TRUE(sim_.insert(false));
  EXPECT_EQ(urcs_.take(), std::vector<std::string>{"+CPIN: SIM PIN"}) << "no registration yet";
  EXPECT_EQ(send("AT+CPIN=\"1234\""), "\r\nOK\r\n");
  EXPECT_EQ(urcs_.take().back(), "+CEREG: 1");
}

TEST_F(SimCommands, WhileOffOrAtCfun0TheSlotChangesQuietly) {
  boot(false);
  radio_.creg_n = 1;
  radio_.cfun = 0;
  EXPECT_TRUE(sim_.remove());
  EXPECT_EQ(urcs_.take(), std::vector<std::string>{"+CPIN: NOT READY"})
      << "no registration to lose with the radio off";
  power_.state = PowerState::off;
  EXPECT_TRUE(sim_.insert(false));
  EXPECT_TRUE(urcs_.take().empty()) << "no port to send to";
  EXPECT_TRUE(radio_.sim_ready);
}

TEST_F(SimCommands, BootUrcsFollowTheCard) {
  boot(false);
  EXPECT_EQ(sim_.boot_urc("+CPIN: READY"), "+CPIN: READY");
  EXPECT_EQ(sim_.boot_urc("+QUSIM: 1"), "+QUSIM: 1");
  EXPECT_EQ(sim_.boot_urc("+CFUN: 1"), "+CFUN: 1");
  boot(true);
  EXPECT_EQ(sim_.boot_urc("+CPIN: READY"), "+CPIN: SIM PIN");
  EXPECT_EQ(sim_.boot_urc("+QUSIM: 1"), std::nullopt);
  EXPECT_EQ(sim_.boot_urc("+QIND: PB DONE"), std::nullopt);
  EXPECT_EQ(sim_.boot_urc("+CFUN: 1"), "+CFUN: 1");
  (void)sim_.remove();
  EXPECT_EQ(sim_.boot_urc("+CPIN: READY"), "+CPIN: NOT READY");
}

TEST_F(SimCommands, IndicatorsFollowSignalServiceAndRoaming) {
  boot(false);
  EXPECT_EQ(
      send("AT+CIND=?"),
      "\r\n+CIND: (\"battchg\",(0-5)),(\"signal\",(0-5)),(\"service\",(0,1)),(\"call\",(0,1)),"
      "(\"roam\",(0,1)),(\"smsfull\",(0,1)),(\"GPRS coverage\",(0,1)),(\"callsetup\",(0-3))"
      "\r\n\r\nOK\r\n");
  profile_.network.rssi = 24;
  EXPECT_EQ(send("AT+CIND?"), "\r\n+CIND: 5,4,1,0,0,0,1,0\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+CIND=1"), "\r\nERROR\r\n");
  profile_.network.roaming = true;
  EXPECT_EQ(send("AT+CIND?"), "\r\n+CIND: 5,4,1,0,1,0,1,0\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+CREG?"), "\r\n+CREG: 0,5\r\n\r\nOK\r\n") << "registered, roaming";
  EXPECT_EQ(send("AT+QSPN"),
            "\r\n+QSPN: \"vmodem Test Network\",\"vmodem\",\"\",0,\"00101\"\r\n\r\nOK\r\n");
  radio_.cfun = 4;
  EXPECT_EQ(send("AT+CIND?"), "\r\n+CIND: 5,0,0,0,0,0,0,0\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+QSPN"), "\r\n+QSPN: \"\",\"\",\"\",0,\"\"\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+CEER"), "\r\n+CEER: \"No report available\"\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+QTEMP"), "\r\n+QTEMP: 33,32,31\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+CPOL?"), "\r\nOK\r\n");
  EXPECT_EQ(send("AT+CPOL=?"), "\r\n+CPOL: (1-8),(0-2)\r\n\r\nOK\r\n");
  (void)sim_.remove();
  EXPECT_EQ(send("AT+CPOL?"), "\r\n+CME ERROR: 10\r\n") << "the list is on the SIM";
  EXPECT_EQ(send("AT+QSPN"), "\r\n+CME ERROR: 10\r\n");
  EXPECT_EQ(send("AT+CEER"), "\r\n+CEER: \"No report available\"\r\n\r\nOK\r\n");
}

}  // namespace
}  // namespace vmodem::sim
