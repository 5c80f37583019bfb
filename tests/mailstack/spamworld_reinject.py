#!/usr/bin/env python3
"""tests/mailstack/spamworld_reinject.py - the last step of spamworld.sh's
SpamAssassin content filter: Postfix's pipe(8) runs
`spamc ... -e python3 spamworld_reinject.py CAFILE HOST PORT SENDER RCPT...`,
spamc hands over the message as spamd returned it (headers added), and
this sends it back into Postfix over SMTP with STARTTLS (the certificate
checked against CAFILE), to the after-filter listener, the way Postfix's
FILTER_README re-injects.  With TLS, so that the hop does not count as
one without it (plain_hops, SPEC section 7).  Not `sendmail`: Postfix's postdrop
refuses a private config dir to a user other than root unless the
system's main.cf lists it (alternate_config_directories).

Exit status, as pipe(8) reads it (sysexits.h): 0 delivered, 75 try again
later (connection failed, 4xx), 65 refused for good (5xx), 64 bad usage.
Not 69 (EX_UNAVAILABLE) for a refusal: spamc says 69 when spamd does not
answer, and spamworld.sh's filter turns that into 75 (try again)."""
import re
import smtplib
import ssl
import sys

EX_USAGE, EX_DATAERR, EX_TEMPFAIL = 64, 65, 75


def main(argv):
    if len(argv) < 6:
        print("usage: spamworld_reinject.py CAFILE HOST PORT SENDER RCPT...", file=sys.stderr)
        return EX_USAGE
    cafile, host, port, sender, rcpts = argv[1], argv[2], argv[3], argv[4], argv[5:]
    data = sys.stdin.buffer.read()
    # spamc writes the message with LF line ends; SMTP wants CRLF.
    data = re.sub(rb"\r?\n", b"\r\n", data)
    try:
        with smtplib.SMTP(host, int(port), local_hostname="spamc.spam.test", timeout=30) as s:
            s.starttls(context=ssl.create_default_context(cafile=cafile))
            refused = s.sendmail(sender, rcpts, data)
    except smtplib.SMTPRecipientsRefused as e:
        codes = [c for c, _ in e.recipients.values()]
        print(f"reinject: recipients refused: {e.recipients}", file=sys.stderr)
        return EX_TEMPFAIL if all(400 <= c < 500 for c in codes) else EX_DATAERR
    except smtplib.SMTPResponseException as e:
        print(f"reinject: {e.smtp_code} {e.smtp_error!r}", file=sys.stderr)
        return EX_TEMPFAIL if 400 <= e.smtp_code < 500 else EX_DATAERR
    except (OSError, smtplib.SMTPException) as e:
        print(f"reinject: {e}", file=sys.stderr)
        return EX_TEMPFAIL
    if refused:
        print(f"reinject: some recipients refused: {refused}", file=sys.stderr)
        return EX_DATAERR
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
