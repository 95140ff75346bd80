from portal.templatetags.texts import email_breaks


def test_emails_break_only_before_at_and_dots_and_stay_escaped():
    assert email_breaks("ana.souza@example.com.br") == (
        "ana<wbr>.souza<wbr>@example<wbr>.com<wbr>.br"
    )
    assert email_breaks('<b onmouseover="x">@a.b') == (
        "&lt;b onmouseover=&quot;x&quot;&gt;<wbr>@a<wbr>.b"
    )
    assert email_breaks(None) == ""
