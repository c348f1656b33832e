// File-system backup and restore through AT+QPRTPARA (SPEC §4): the
// document's two auxiliary tests, the response formats, the production-line
// backup, an automatic restore at a boot probe point, bad blocks in the
// backup partitions, both profile behaviours of a power cut during a backup,
// and the response times. (Probe points one by one: probe_e2e_test.cpp; the
// auxiliary tests through FUSE: backup_fuse_e2e_test.cpp.)
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <numeric>
#include <sstream>

#include <gtest/gtest.h>

#include "e2e_support.hpp"

namespace vmodem::e2e {
namespace {

// A copy of the bg95-m3 profile with `edit` applied, written to `path`.
std::string profile_file(const std::filesystem::path& path,
                         const std::function<void(nlohmann::json&)>& edit) {
  std::ifstream in(std::filesystem::path(VMODEM_CONFIGS) / "bg95-m3.json");
  auto profile = nlohmann::json::parse(in);
  edit(profile);
  std::ofstream(path) << profile.dump(2);
  return path.string();
}

struct Backup : ::testing::Test {
  Backup() : Backup(std::vector<std::string>{}) {}
  explicit Backup(std::vector<std::string> args) : daemon(std::move(args)) { connect(); }
  void power_cycle() {
    ASSERT_FALSE(daemon.ctl("power-cut").contains("error"));
    ASSERT_TRUE(daemon.wait_power("off"));
    ASSERT_FALSE(daemon.ctl("power-on").contains("error"));
    host.reset();
    connect();
  }
  void connect() {
    host = std::make_unique<Host>(daemon.port("ttyUSB2"));
    ASSERT_NE(host->read_until_booted().find("APP RDY"), std::string::npos) << daemon.log();
    host->command("ATE0");
  }
  // AT+CFUN=1,1 and a fresh host end once the module is back.
  void reset_by_at() {
    EXPECT_EQ(host->command("AT+CFUN=1,1"), "\r\nOK\r\n");
    EXPECT_TRUE(host->hung_up());
    connect();
  }
  std::string upload(const std::string& name, const std::string& data) {
    host->write("AT+QFUPL=\"" + name + "\"," + std::to_string(data.size()) + "\r");
    if (host->read_until("CONNECT\r\n").find("CONNECT") == std::string::npos) return "no CONNECT";
    host->write(data);
    return host->read_until("OK\r\n", 5000ms);
  }
  bool listed(const std::string& name) {
    return host->command("AT+QFLST=\"" + name + "\"").find("+QFLST:") != std::string::npos;
  }
  std::vector<long> ap_info() { return qprtpara_fields(host->command("AT+QPRTPARA=14")); }

  Daemon daemon;
  std::unique_ptr<Host> host;
};

TEST_F(Backup, ResponseFormatsAndProductionLineBackup) {
  const auto modem = qprtpara_fields(host->command("AT+QPRTPARA=4"));
  ASSERT_EQ(modem.size(), 15U);
  EXPECT_EQ(modem[0], 1) << "backup_cnt: the production line backed the modem FS up once";
  EXPECT_EQ(modem[1], 0) << "restore_cnt";
  EXPECT_GT(modem[2], 0) << "page_cnt";
  EXPECT_EQ(modem[14], 0) << "the undocumented 15th field";
  const auto ap = ap_info();
  ASSERT_EQ(ap.size(), 19U);
  EXPECT_EQ(ap[0], 1) << "backup_valid";
  EXPECT_EQ(ap[1], 1) << "backup_cnt";
  EXPECT_EQ(ap[2], 0) << "restore_cnt";
  EXPECT_GT(ap[13], 0) << "page_cnt";
  EXPECT_EQ(ap[14], ap[15] + ap[16] + ap[17] + ap[18]) << "bad_blk_cnt is the sum";

  for (const char* bad : {"AT+QPRTPARA=?", "AT+QPRTPARA?", "AT+QPRTPARA", "AT+QPRTPARA=",
                          "AT+QPRTPARA=2", "AT+QPRTPARA=12", "AT+QPRTPARA=x", "AT+QPRTPARA=1,1"}) {
    EXPECT_EQ(host->command(bad), "\r\nERROR\r\n") << bad;
  }
  EXPECT_EQ(host->command("AT+QPRTPARA=1"), "\r\nOK\r\n");
  EXPECT_EQ(qprtpara_fields(host->command("AT+QPRTPARA=4"))[0], 2);
  const auto info = daemon.ctl("backup-info --file-system modem");
  EXPECT_EQ(info["backup_count"], 2) << info.dump();
  EXPECT_EQ(info["backup_valid"], true);
}

// Auxiliary test 1: a file created after the backup is gone after a forced
// restore.
TEST_F(Backup, ForcedRestoreRemovesANewFile) {
  ASSERT_NE(upload("test.txt", "hello backup").find("+QFUPL: 12"), std::string::npos);
  const auto before = ap_info();
  ASSERT_EQ(before.size(), 19U);
  EXPECT_EQ(host->command("AT+QPRTPARA=13"), "\r\nOK\r\n");
  reset_by_at();
  EXPECT_FALSE(listed("test.txt"));
  const auto after = ap_info();
  ASSERT_EQ(after.size(), 19U);
  EXPECT_EQ(after[2], before[2] + 1) << "restore_cnt";
  EXPECT_EQ(after[1], before[1]) << "backup_cnt";
  EXPECT_NE(daemon.log().find("restoring from its backup"), std::string::npos);
}

// Auxiliary test 2: a backed-up file deleted afterwards returns.
TEST_F(Backup, ForcedRestoreBringsBackADeletedFile) {
  ASSERT_NE(upload("test.txt", "kept by the backup").find("+QFUPL: 18"), std::string::npos);
  EXPECT_EQ(host->command("AT+QPRTPARA=11"), "\r\nOK\r\n");
  EXPECT_EQ(host->command("AT+QFDEL=\"test.txt\""), "\r\nOK\r\n");
  EXPECT_FALSE(listed("test.txt"));
  EXPECT_EQ(host->command("AT+QPRTPARA=13"), "\r\nOK\r\n");
  reset_by_at();
  EXPECT_EQ(host->command("AT+QFLST=\"test.txt\""), "\r\n+QFLST: \"test.txt\",18\r\n\r\nOK\r\n");
  const auto info = ap_info();
  ASSERT_EQ(info.size(), 19U);
  EXPECT_EQ(info[1], 2) << "backup_cnt: production line + =11";
  EXPECT_EQ(info[2], 1) << "restore_cnt";
}

// A destroyed AP FS: the boot's probe points fail, the module restores
// the backup, counts the restore at that probe point and reports it.
TEST_F(Backup, AutomaticRestoreAtAProbePoint) {
  ASSERT_NE(upload("kept.txt", "in the backup").find("+QFUPL: 13"), std::string::npos);
  EXPECT_EQ(host->command("AT+QPRTPARA=11"), "\r\nOK\r\n");
  ASSERT_NE(upload("lost.txt", "after the backup").find("+QFUPL: 16"), std::string::npos);
  const auto before = ap_info();
  ASSERT_EQ(before.size(), 19U);
  // The whole AP partition erased under the running module, then the power
  // cut (no orderly sync may rewrite it): the next boot finds no file system.
  const auto injected = daemon.ctl("inject --kind erase-partition --partition usrfs");
  ASSERT_FALSE(injected.contains("error")) << injected.dump();
  ASSERT_FALSE(daemon.ctl("power-cut").contains("error"));
  ASSERT_TRUE(daemon.wait_power("off"));
  ASSERT_FALSE(daemon.ctl("power-on").contains("error"));
  host.reset();
  connect();
  const auto after = ap_info();
  ASSERT_EQ(after.size(), 19U);
  EXPECT_EQ(after[2], before[2] + 1) << "restore_cnt";
  long probes_before = std::accumulate(before.begin() + 3, before.begin() + 13, 0L);
  long probes_after = std::accumulate(after.begin() + 3, after.begin() + 13, 0L);
  EXPECT_EQ(probes_after, probes_before + 1) << "exactly one probe counter moved";
  EXPECT_TRUE(listed("kept.txt"));
  EXPECT_FALSE(listed("lost.txt"));
  const auto info = daemon.ctl("backup-info --file-system ap");
  EXPECT_EQ(info["restore_count"], after[2]) << info.dump();
  EXPECT_NE(daemon.log().find("restoring from its backup (probe point"), std::string::npos);
}

// A profile written before the daemon starts (members initialise in order).
struct ProfileFile {
  ProfileFile(const std::function<void(nlohmann::json&)>& edit)
      : path(profile_file(dir.path() / "profile.json", edit)) {}
  vmodem::testing::TempDir dir;
  std::string path;
};

// Factory bad blocks in all four backup partitions (the profile's list, as
// the NAND left the factory): skipped by the production-line backup, by =1
// and =11 and by the restore, and counted field by field in =14.
struct BackupFactoryBad : ProfileFile, Backup {
  BackupFactoryBad()
      : ProfileFile([](nlohmann::json& p) {
          // efs2_bak starts at 196, efs2_bak_info 206, usrfs_bak 258, usrfs_bak_info 266.
          p["nand"]["factory_bad_blocks"] = {{"max", 40}, {"list", {197, 207, 259, 266}}};
        }),
        Backup({"--profile", path}) {}
};

TEST_F(BackupFactoryBad, SkippedAndCountedInQprtpara14) {
  auto ap = ap_info();
  ASSERT_EQ(ap.size(), 19U);
  EXPECT_EQ(ap[0], 1) << "the production-line backup is valid despite the bad blocks";
  EXPECT_EQ(ap[15], 1) << "MFS_data_bad";
  EXPECT_EQ(ap[16], 1) << "MFS_info_bad";
  EXPECT_EQ(ap[17], 1) << "AFS_data_bad";
  EXPECT_EQ(ap[18], 1) << "AFS_info_bad";
  EXPECT_EQ(ap[14], 4) << "bad_blk_cnt: the backup partitions of both file systems";
  EXPECT_EQ(host->command("AT+QPRTPARA=1"), "\r\nOK\r\n");
  ASSERT_NE(upload("test.txt", "over bad blocks").find("+QFUPL: 15"), std::string::npos);
  EXPECT_EQ(host->command("AT+QPRTPARA=11"), "\r\nOK\r\n");
  EXPECT_EQ(host->command("AT+QFDEL=\"test.txt\""), "\r\nOK\r\n");
  EXPECT_EQ(host->command("AT+QPRTPARA=13"), "\r\nOK\r\n");
  reset_by_at();
  EXPECT_EQ(host->command("AT+QFLST=\"test.txt\""), "\r\n+QFLST: \"test.txt\",15\r\n\r\nOK\r\n");
  ap = ap_info();
  ASSERT_EQ(ap.size(), 19U);
  EXPECT_EQ(ap[2], 1) << "restore_cnt";
  EXPECT_EQ(ap[14], 4);
}

// Blocks that fail while a backup is written (grown bad blocks): a program
// failure in the AP data partition, one in the modem info partition, an
// erase failure in the modem data partition. Each backup still succeeds,
// the failed block is retired and counted in its own =14 field.
TEST_F(Backup, GrownBadBlocksDuringABackupAreSkippedAndCounted) {
  const auto before = ap_info();
  ASSERT_EQ(before.size(), 19U);
  auto rule = [&](const std::string& partition, int n, const std::string& op = "program") {
    const auto r =
        daemon.ctl("inject --kind rule --rule '{\"effect\":\"" + op + "_fail\",\"partition\":\"" +
                   partition + "\",\"ops\":[\"" + op + "\"],\"n\":" + std::to_string(n) + "}'");
    EXPECT_FALSE(r.contains("error")) << r.dump();
  };
  ASSERT_NE(upload("grown.txt", "written over a failing block").find("+QFUPL: 28"),
            std::string::npos);
  rule("usrfs_bak", 2);
  EXPECT_EQ(host->command("AT+QPRTPARA=11", 5000ms), "\r\nOK\r\n");
  auto after = ap_info();
  ASSERT_EQ(after.size(), 19U);
  EXPECT_EQ(after[0], 1) << "backup_valid";
  EXPECT_EQ(after[1], before[1] + 1) << "backup_cnt";
  EXPECT_EQ(after[17], before[17] + 1) << "AFS_data_bad";
  rule("efs2_bak_info", 1);
  EXPECT_EQ(host->command("AT+QPRTPARA=1", 5000ms), "\r\nOK\r\n");
  after = ap_info();
  ASSERT_EQ(after.size(), 19U);
  EXPECT_EQ(after[16], before[16] + 1) << "MFS_info_bad";
  EXPECT_EQ(after[14], before[14] + 2) << "bad_blk_cnt";
  // An erase that fails while =1 prepares the data partition.
  rule("efs2_bak", 1, "erase");
  EXPECT_EQ(host->command("AT+QPRTPARA=1", 5000ms), "\r\nOK\r\n");
  after = ap_info();
  ASSERT_EQ(after.size(), 19U);
  EXPECT_EQ(after[15], before[15] + 1) << "MFS_data_bad";
  EXPECT_EQ(after[14], before[14] + 3) << "bad_blk_cnt";
  // The backup written around the failed block restores.
  EXPECT_EQ(host->command("AT+QFDEL=\"grown.txt\""), "\r\nOK\r\n");
  EXPECT_EQ(host->command("AT+QPRTPARA=13"), "\r\nOK\r\n");
  reset_by_at();
  EXPECT_TRUE(listed("grown.txt"));
}

// Power lost during AT+QPRTPARA=11, at the 3rd page the backup programs
// into the data partition.
void cut_during_ap_backup(Backup& t) {
  const auto armed = t.daemon.ctl("power-cut --partition usrfs_bak --op program --nth 3");
  ASSERT_FALSE(armed.contains("error")) << armed.dump();
  t.host->write("AT+QPRTPARA=11\r");
  const std::string said = t.host->read_until("\r\nERROR\r\n", 3000ms);
  EXPECT_EQ(said.find("ERROR"), std::string::npos) << "a module that lost power says nothing";
  EXPECT_TRUE(t.host->hung_up(3000ms)) << "the module lost power mid-backup";
  ASSERT_TRUE(t.daemon.wait_power("off"));
  ASSERT_FALSE(t.daemon.ctl("power-on").contains("error"));
  t.host.reset();
  t.connect();
}

// The safe profile behaviour, with the document's 14-field =4.
struct BackupSafeProfile : ProfileFile, Backup {
  BackupSafeProfile()
      : ProfileFile([](nlohmann::json& p) {
          p["backup"] = {{"power_loss_mode", "safe"}, {"qprtpara4_fields", 14}};
        }),
        Backup({"--profile", path}) {}
};

TEST_F(BackupSafeProfile, PowerCutDuringBackupKeepsThePreviousBackup) {
  EXPECT_EQ(qprtpara_fields(host->command("AT+QPRTPARA=4")).size(), 14U);
  ASSERT_NE(upload("old.txt", "in the previous backup").find("+QFUPL: 22"), std::string::npos);
  EXPECT_EQ(host->command("AT+QPRTPARA=11"), "\r\nOK\r\n");
  ASSERT_NE(upload("new.txt", "never backed up").find("+QFUPL: 15"), std::string::npos);
  cut_during_ap_backup(*this);
  auto info = ap_info();
  ASSERT_EQ(info.size(), 19U);
  EXPECT_EQ(info[0], 1) << "backup_valid: the previous backup stays valid";
  EXPECT_EQ(info[1], 2) << "backup_cnt: production line + the completed =11";
  EXPECT_EQ(host->command("AT+QFDEL=\"old.txt\""), "\r\nOK\r\n");
  EXPECT_EQ(host->command("AT+QPRTPARA=13"), "\r\nOK\r\n");
  reset_by_at();
  EXPECT_TRUE(listed("old.txt")) << "the previous backup restores";
  EXPECT_FALSE(listed("new.txt"));
}

// The default (real) behaviour: the interrupted backup leaves no valid
// backup, a forced restore is refused, and backing up again fixes it.
TEST_F(Backup, RealModePowerCutDuringBackupLeavesItInvalid) {
  EXPECT_EQ(qprtpara_fields(host->command("AT+QPRTPARA=4")).size(), 15U);
  ASSERT_NE(upload("old.txt", "in the previous backup").find("+QFUPL: 22"), std::string::npos);
  EXPECT_EQ(host->command("AT+QPRTPARA=11"), "\r\nOK\r\n");
  cut_during_ap_backup(*this);
  auto info = ap_info();
  ASSERT_EQ(info.size(), 19U);
  EXPECT_EQ(info[0], 0) << "backup_valid: the document says to back up again";
  EXPECT_EQ(host->command("AT+QPRTPARA=13"), "\r\nERROR\r\n") << "nothing to restore from";
  EXPECT_EQ(host->command("AT+QPRTPARA=11"), "\r\nOK\r\n");
  info = ap_info();
  ASSERT_EQ(info.size(), 19U);
  EXPECT_EQ(info[0], 1) << "backed up again";
  EXPECT_EQ(host->command("AT+QFDEL=\"old.txt\""), "\r\nOK\r\n");
  EXPECT_EQ(host->command("AT+QPRTPARA=13"), "\r\nOK\r\n");
  reset_by_at();
  EXPECT_TRUE(listed("old.txt"));
}

// Response times against the document's maxima (4 s for =1/=11, 600 ms for
// =3/=4/=13/=14): measured under --real-time pacing (NAND at datasheet
// speed, boot in seconds) and in fast mode. Printed for the record.
std::map<std::string, long> response_times(Host& host) {
  std::map<std::string, long> ms;
  for (const char* form : {"AT+QPRTPARA=4", "AT+QPRTPARA=14", "AT+QPRTPARA=1", "AT+QPRTPARA=11",
                           "AT+QPRTPARA=3", "AT+QPRTPARA=13"}) {
    const auto start = std::chrono::steady_clock::now();
    const std::string reply = host.command(form, 10000ms);
    ms[form] = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - start)
                   .count();
    EXPECT_NE(reply.find("OK\r\n"), std::string::npos) << form << ": " << reply;
    std::printf("  %-16s %5ld ms\n", form, ms[form]);
  }
  return ms;
}

TEST(BackupTiming, WithinTheDocumentsMaximaUnderRealTimePacing) {
  Daemon daemon({"--real-time"});
  Host host(daemon.port("ttyUSB2"), 10000ms);
  ASSERT_NE(host.read_until("RDY\r\n", 20000ms).find("RDY"), std::string::npos) << daemon.log();
  // Between RDY and APP RDY (1.5 s at real-time pacing) the modem forms
  // work and the AP forms answer ERROR, as the document's note 2 says.
  host.command("ATE0");
  EXPECT_EQ(host.command("AT+QPRTPARA=14"), "\r\nERROR\r\n");
  EXPECT_EQ(host.command("AT+QPRTPARA=13"), "\r\nERROR\r\n");
  EXPECT_EQ(qprtpara_fields(host.command("AT+QPRTPARA=4")).size(), 15U);
  ASSERT_NE(host.read_until_booted(20000ms).find("APP RDY"), std::string::npos) << daemon.log();
  std::printf("real-time pacing:\n");
  for (const auto& [form, ms] : response_times(host)) {
    const bool backup = form == "AT+QPRTPARA=1" || form == "AT+QPRTPARA=11";
    EXPECT_LE(ms, backup ? 4000 : 600) << form;
  }
}

TEST_F(Backup, MillisecondsInFastMode) {
  std::printf("fast mode:\n");
  for (const auto& [form, ms] : response_times(*host))
    EXPECT_LE(ms, 250) << form;
}

// The UC20 has no backup partitions: every form answers ERROR, and the
// control socket says there is no backup.
TEST(BackupUc20, NoBackupPartitionsMeansError) {
  Daemon daemon({"--profile", "uc20"});
  ASSERT_TRUE(daemon.wait_booted());
  Host host(daemon.port("ttyUSB2"));
  host.command("ATE0");
  for (const char* form : {"AT+QPRTPARA=1", "AT+QPRTPARA=4", "AT+QPRTPARA=13"})
    EXPECT_EQ(host.command(form), "\r\nERROR\r\n") << form;
  EXPECT_TRUE(daemon.ctl("backup-info --file-system ap").contains("error"));
}

}  // namespace
}  // namespace vmodem::e2e
