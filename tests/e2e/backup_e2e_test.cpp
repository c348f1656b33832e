// File-system backup and restore through AT+QPRTPARA (SPEC §4): the
// document's two auxiliary tests, the response formats, the production-line
// backup and an automatic restore at a boot probe point.
#include <memory>
#include <numeric>
#include <sstream>

#include <gtest/gtest.h>

#include "e2e_support.hpp"

namespace vmodem::e2e {
namespace {

// The numbers of a "+QPRTPARA: a,b,c" line in a response.
std::vector<long> fields(const std::string& response) {
  const auto at = response.find("+QPRTPARA: ");
  if (at == std::string::npos) return {};
  std::istringstream in(response.substr(at + 11, response.find('\r', at) - at - 11));
  std::vector<long> out;
  for (std::string item; std::getline(in, item, ',');)
    out.push_back(std::stol(item));
  return out;
}

struct Backup : ::testing::Test {
  Backup() { connect(); }
  void connect() {
    host = std::make_unique<Host>(daemon.port("ttyUSB2"));
    ASSERT_NE(host->read_until("APP RDY\r\n").find("APP RDY"), std::string::npos) << daemon.log();
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
  std::vector<long> ap_info() { return fields(host->command("AT+QPRTPARA=14")); }

  Daemon daemon;
  std::unique_ptr<Host> host;
};

TEST_F(Backup, ResponseFormatsAndProductionLineBackup) {
  const auto modem = fields(host->command("AT+QPRTPARA=4"));
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
  EXPECT_EQ(fields(host->command("AT+QPRTPARA=4"))[0], 2);
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

// The UC20 has no backup partitions: every form answers ERROR, and the
// control socket says there is no backup.
TEST(BackupUc20, NoBackupPartitionsMeansError) {
  Daemon daemon({"--profile", "uc20"});
  ASSERT_TRUE(daemon.wait_power("app_rdy"));
  Host host(daemon.port("ttyUSB2"));
  host.command("ATE0");
  for (const char* form : {"AT+QPRTPARA=1", "AT+QPRTPARA=4", "AT+QPRTPARA=13"})
    EXPECT_EQ(host.command(form), "\r\nERROR\r\n") << form;
  EXPECT_TRUE(daemon.ctl("backup-info --file-system ap").contains("error"));
}

}  // namespace
}  // namespace vmodem::e2e
