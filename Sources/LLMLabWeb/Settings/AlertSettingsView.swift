import Foundation
import LLMLabProto
import SwiftProtobuf

/// Alert settings: rules per project or API key (thresholds, forecast, cost spike) and
/// channels (add — the signing secret shown once —, disable/enable, rotate the secret,
/// send a test, delete).
struct AlertSettingsView {
    var session: DashboardSession
    var channels: [Llmlab_V1_AlertChannel]
    var rules: [Llmlab_V1_AlertRule]
    var projects: [Llmlab_V1_Project]
    var keys: [Llmlab_V1_ApiKey]

    func render() -> HTML {
        let names = SettingsHTML.names(projects)
        let view = self
        let ruleTable = session.canManage
            ? AlertsView.ruleTable(rules, projects: names, actions: { view.ruleActions($0) })
            : AlertsView.ruleTable(rules, projects: names)
        let channelTable = session.canManage
            ? AlertsView.channelTable(channels, actions: { view.channelActions($0) })
            : AlertsView.channelTable(channels)
        return "<h3>Rules</h3>\(ruleForm())\(ruleTable)<h3>Channels</h3>\(channelForm())\(channelTable)"
    }

    func ruleActions(_ rule: Llmlab_V1_AlertRule) -> HTML {
        SettingsHTML.form("/ui/settings/alerts/rules/\(rule.id)/delete", csrf: session.csrf, testID: "rule-delete-form",
                          confirm: "Delete this rule? Its subject goes back to the default thresholds.",
                          "<button type=\"submit\" class=\"danger\">Delete</button>")
    }

    func ruleForm() -> HTML {
        guard session.canManage else { return .empty }
        var subjects: [HTML] = projects.filter { !$0.hasArchivedAt }.map { "<option value=\"project:\($0.id)\">project \($0.name)</option>" }
        subjects += keys.filter { !$0.hasRevokedAt }.map { "<option value=\"key:\($0.id)\">API key \($0.name) (\($0.prefix)…)</option>" }
        return SettingsHTML.form("/ui/settings/alerts/rules", csrf: session.csrf, testID: "set-rule-form", css: "stack", """
            <label>For <select name="subject" required>\(subjects)</select></label>\
            <label>Budget thresholds (%) <input name="thresholds" placeholder="50, 80, 100 (default)"></label>\
            <fieldset class="checks"><legend>Also</legend><label><input type="checkbox" name="no_thresholds"> no threshold alerts</label>\
            <label><input type="checkbox" name="forecast"> forecast over budget</label></fieldset>\
            <label>Spike factor <input name="spike_factor" inputmode="decimal" placeholder="e.g. 3"></label>\
            <label>Spike minimum (USD/hour) <input name="spike_min_usd" inputmode="decimal" placeholder="e.g. 5"></label>\
            <button type="submit" class="primary">Save rule</button>
            """)
    }

    func channelForm() -> HTML {
        guard session.canManage else { return .empty }
        return SettingsHTML.form("/ui/settings/alerts", csrf: session.csrf, testID: "create-channel-form", css: "stack", """
            <label>Name <input name="name" required maxlength="100"></label>\
            <label>Kind <select name="kind"><option value="webhook">webhook</option><option value="slack">Slack</option>\
            <option value="email">email</option></select></label>\
            <label>URL (webhook, Slack) <input name="url" type="url" placeholder="https://hooks.example.com/llmlab"></label>\
            <label>Recipients (email) <input name="recipients" placeholder="ops@example.com, cfo@example.com"></label>\
            <button type="submit" class="primary">Add channel</button>
            """)
    }

    func channelActions(_ channel: Llmlab_V1_AlertChannel) -> HTML {
        var actions = SettingsHTML.form("/ui/settings/alerts/\(channel.id)/test", csrf: session.csrf, testID: "channel-test-form",
                                        "<button type=\"submit\">Send test</button>")
        actions += channel.disabled
            ? SettingsHTML.form("/ui/settings/alerts/\(channel.id)/enable", csrf: session.csrf, testID: "channel-enable-form",
                                "<button type=\"submit\">Enable</button>")
            : SettingsHTML.form("/ui/settings/alerts/\(channel.id)/disable", csrf: session.csrf, testID: "channel-disable-form",
                                "<button type=\"submit\">Disable</button>")
        if channel.kind != .email {
            actions += SettingsHTML.form("/ui/settings/alerts/\(channel.id)/rotate", csrf: session.csrf, testID: "channel-rotate-form",
                                         confirm: "Rotate the signing secret of \(channel.name)? The old secret stops signing at once.",
                                         "<button type=\"submit\">Rotate secret</button>")
        }
        return actions + SettingsHTML.form("/ui/settings/alerts/\(channel.id)/delete", csrf: session.csrf, testID: "channel-delete-form",
                                           confirm: "Delete channel \(channel.name)?", "<button type=\"submit\" class=\"danger\">Delete</button>")
    }
}
