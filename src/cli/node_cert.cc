#include "cli/node_cert.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "cli/commands.h"

namespace berth::cli {

namespace {

namespace fs = std::filesystem;

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509_REQ* p) const { X509_REQ_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
};

std::string pem_of(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

// Writes `text` to a new file `path` with `mode`; refuses one that exists.
Status write_new(const std::string& path, const std::string& text, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0)
    return Status::Invalid("cannot create " + path +
                           (errno == EEXIST ? ": it exists (remove it to make a new one)" : ""));
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!written) return Status::Internal("cannot write " + path);
  return Status::Ok();
}

Status run_node_cert(Context& ctx, const std::string& node, const std::string& out) {
  std::error_code ec;
  fs::create_directories(out, ec);
  const std::string dir = fs::absolute(out, ec).lexically_normal().string();
  if (ec || !fs::is_directory(dir)) return Status::Invalid("cannot make the directory " + out);
  const std::string key = dir + "/node.key", cert = dir + "/node.crt", ca = dir + "/ca.crt";
  for (const std::string& f : {key, cert, ca})
    if (fs::exists(f)) return Status::Invalid(f + " exists (remove it to make a new one)");
  BERTH_ASSIGN_OR_RETURN(NodeKeyRequest made, make_node_key_request(node));
  BERTH_ASSIGN_OR_RETURN(auto reply,
                         ctx.post("/v1/admin/node-certs", {{"node", node}, {"csr", made.csr_pem}}));
  BERTH_RETURN_IF_ERROR(write_new(key, made.key_pem, 0600));
  BERTH_RETURN_IF_ERROR(write_new(cert, reply.value("certificate", ""), 0644));
  BERTH_RETURN_IF_ERROR(write_new(ca, reply.value("ca", ""), 0644));
  const std::string text = "Wrote " + key + " (keep it on " + node + " only), " + cert + " and " +
                           ca + ".\nIn " + node + "'s agent.toml:\n  ca_file = \"" + ca +
                           "\"\n  cert_file = \"" + cert + "\"\n  key_file = \"" + key +
                           "\"\nor: berth-agent --node " + node + " --ca " + ca + " --cert " +
                           cert + " --key " + key + "\n";
  ctx.print({{"node", node}, {"key_file", key}, {"cert_file", cert}, {"ca_file", ca}}, text);
  return Status::Ok();
}

Status run_revoke(Context& ctx, const std::string& node) {
  BERTH_ASSIGN_OR_RETURN(auto reply, ctx.post("/v1/admin/node-certs/revoke", {{"node", node}}));
  ctx.print(reply, "Revoked " + std::to_string(reply.value("revoked", 0)) + " certificate(s) of " +
                       node + "; its agent is refused until " + "berth admin node-cert " + node +
                       " --out DIR makes a new one.\n");
  return Status::Ok();
}

}  // namespace

Result<NodeKeyRequest> make_node_key_request(const std::string& node) {
  std::unique_ptr<EVP_PKEY, Free> key(EVP_EC_gen("P-256"));
  std::unique_ptr<X509_REQ, Free> req(X509_REQ_new());
  if (!key || !req) return Status::Internal("cannot make an EC P-256 key");
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(node.c_str()), -1, -1, 0);
  X509_REQ_set_pubkey(req.get(), key.get());
  if (X509_REQ_sign(req.get(), key.get(), EVP_sha256()) == 0)
    return Status::Internal("cannot sign the certificate request");
  std::unique_ptr<BIO, Free> key_bio(BIO_new(BIO_s_mem())), req_bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  PEM_write_bio_X509_REQ(req_bio.get(), req.get());
  return NodeKeyRequest{pem_of(key_bio.get()), pem_of(req_bio.get())};
}

void add_node_cert_command(CLI::App& admin, Context& ctx) {
  struct Flags {
    std::string node;
    std::string out;
    bool revoke = false;
  };
  auto& f = ctx.make<Flags>();
  CLI::App* sub = admin.add_subcommand(
      "node-cert",
      "make a node agent's key here and have berthd's CA sign its certificate (admin); writes "
      "DIR/node.key, DIR/node.crt and DIR/ca.crt");
  sub->add_option("node", f.node, "the node, as berthd's configuration names it")->required();
  sub->add_option("--out", f.out, "the directory to write them to");
  sub->add_flag("--revoke", f.revoke,
                "revoke every certificate signed for the node so far instead: its agent is "
                "refused until it has a new one");
  on_run(sub, ctx, [&ctx, &f] {
    if (f.revoke && !f.out.empty()) return Status::Invalid("--revoke writes nothing: drop --out");
    if (f.revoke) return run_revoke(ctx, f.node);
    if (f.out.empty()) return Status::Invalid("--out DIR is required: where to write the files");
    return run_node_cert(ctx, f.node, f.out);
  });
}

}  // namespace berth::cli
