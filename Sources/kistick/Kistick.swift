import ArgumentParser

@main
struct Kistick: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kistick",
        abstract: "A low-latency tick engine for Korean equities on the KIS Open API.",
        subcommands: [Decode.self, Sim.self, Version.self]
    )
}
