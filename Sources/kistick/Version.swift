import ArgumentParser
import CCrypto
import CCurl
import CZstd

/// Prints what kistick runs on: the C libraries actually loaded, which is what matters when a distribution
/// upgrade changes one under us.
struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print kistick's version and its libraries'.")

    static let kistick = "0.1.0"

    func run() {
        print("kistick \(Self.kistick)")
        print("openssl \(String(cString: OpenSSL_version(OPENSSL_VERSION)))")
        print("curl    \(String(cString: curl_version()))")
        print("zstd    \(String(cString: ZSTD_versionString()))")
    }
}
