import ArgumentParser

@main
struct Kistick: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kistick",
        abstract: "A low-latency tick engine for Korean equities on the KIS Open API.",
        subcommands: [
            Paper.self, Live.self, Screen.self, Kill.self, Price.self, BalanceCommand.self, Orders.self, Order.self,
            Watch.self, Decode.self, Record.self, CaptureCommand.self, Replay.self, Bench.self, Sim.self, Version.self,
        ]
    )
}
