/// Which KIS server an app key belongs to. Paper (모의투자) is the default everywhere: real money needs an explicit
/// choice at every entry point.
public enum Environment: String, Sendable, Hashable, CaseIterable {
    case paper
    case real
}
