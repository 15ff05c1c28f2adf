using Xunit.Abstractions;

namespace Converge.SystemTests;

public sealed class UserKitHost : KitHost
{
    protected override string Hostname => "kit-user";
}

/// <summary>
/// Every property of <c>user</c> changed on an existing account with real shadow-utils, through the
/// convergence kit (<see cref="HostKit"/>), all in one host: each case owns its own login names.
/// </summary>
public class UserKitTests(UserKitHost fixture, ITestOutputHelper output) : IClassFixture<UserKitHost>
{
    // Two crypt(3)-shaped SHA-512 hashes; neither may ever appear in output or reports.
    private const string HashA = "$6$kitsaltA$1Qn7pW0b2Zx9vT4kL8mR3sY6uE5dC1aH0gJ2fB7nM4qK9wV3xZ8rT5yU6iO1pL0kJ9hG8fD7sA2qW3eR4tY5u.";
    private const string HashB = "$6$kitsaltB$9Zy8Xw7Vu6Ts5Rq4Po3Nm2Lk1Ji0Hg9Fe8Dc7Ba6Zy5Xw4Vu3Ts2Rq1Po0Nm9Lk8Ji7Hg6Fe5Dc4Ba3Zy2X.";

    private static int Days(int y, int m, int d) => new DateOnly(y, m, d).DayNumber - new DateOnly(1970, 1, 1).DayNumber;

    private static readonly KitCase[] All =
    [
        new("uid")
        {
            // usermod --uid also re-owns what the user owns in the home directory.
            Setup = "useradd --uid 3001 --create-home ku-uid && su ku-uid -s /bin/sh -c 'touch /home/ku-uid/f'",
            Site = "resources:\n  - user: ku-uid\n    uid: 3002\n",
            Shows = ["uid: 3001 → 3002", "$ usermod --uid 3002 ku-uid"],
            Probe = "id -u ku-uid; stat -c %u /home/ku-uid/f",
            Expected = "3002\n3002\n",
            Drift = "usermod --uid 3003 ku-uid",
            DriftShows = ["uid: 3003 → 3002", "$ usermod --uid 3002 ku-uid"],
        },
        new("gid-by-name")
        {
            Setup = "groupadd --gid 3100 kg-a && groupadd --gid 3101 kg-b && useradd --gid kg-a ku-gid",
            Site = "resources:\n  - user: ku-gid\n    gid: kg-b\n",
            Shows = ["gid: kg-a → kg-b", "$ usermod --gid kg-b ku-gid"],
            Probe = "id -g ku-gid",
            Expected = "3101\n",
            Drift = "usermod --gid kg-a ku-gid",
            DriftShows = ["$ usermod --gid kg-b ku-gid"],
        },
        new("gid-by-number")
        {
            Setup = "groupadd --gid 3110 kg-n1 && groupadd --gid 3111 kg-n2 && useradd --gid 3110 ku-gidn",
            Site = "resources:\n  - user: ku-gidn\n    gid: 3111\n",
            Shows = ["$ usermod --gid 3111 ku-gidn"],
            Probe = "id -g ku-gidn",
            Expected = "3111\n",
            Drift = "usermod --gid 3110 ku-gidn",
            DriftShows = ["$ usermod --gid 3111 ku-gidn"],
        },
        new("home-moved")
        {
            Setup = "useradd --create-home --home-dir /home/ku-old ku-home && su ku-home -s /bin/sh -c 'echo kept > /home/ku-old/f'",
            Site = "resources:\n  - user: ku-home\n    home: /srv/ku-home\n    managehome: true\n",
            Shows = ["home: /home/ku-old → /srv/ku-home", "$ usermod --home /srv/ku-home --move-home ku-home"],
            Probe = "getent passwd ku-home | cut -d: -f6; cat /srv/ku-home/f; stat -c %U /srv/ku-home; test -e /home/ku-old && echo old-left || echo old-gone",
            Expected = "/srv/ku-home\nkept\nku-home\nold-gone\n",
            Drift = "usermod --home /home/ku-old --move-home ku-home",
            DriftShows = ["$ usermod --home /srv/ku-home --move-home ku-home"],
        },
        new("home-not-moved")
        {
            Setup = "useradd --create-home --home-dir /home/ku-stay ku-stay",
            Site = "resources:\n  - user: ku-stay\n    home: /srv/ku-stay\n",
            Shows = ["$ usermod --home /srv/ku-stay ku-stay"],
            Probe = "getent passwd ku-stay | cut -d: -f6; test -d /home/ku-stay && echo old-kept; test -e /srv/ku-stay || echo new-not-made",
            Expected = "/srv/ku-stay\nold-kept\nnew-not-made\n",
            Drift = "usermod --home /home/ku-stay ku-stay",
            DriftShows = ["$ usermod --home /srv/ku-stay ku-stay"],
        },
        new("shell")
        {
            Setup = "useradd --shell /bin/sh ku-shell",
            Site = "resources:\n  - user: ku-shell\n    shell: /bin/bash\n",
            Shows = ["shell: /bin/sh → /bin/bash", "$ usermod --shell /bin/bash ku-shell"],
            Probe = "getent passwd ku-shell | cut -d: -f7",
            Expected = "/bin/bash\n",
            Drift = "chsh --shell /usr/sbin/nologin ku-shell",
            DriftShows = ["shell: /usr/sbin/nologin → /bin/bash"],
        },
        new("comment")
        {
            Setup = "useradd --comment 'Old name' ku-comment",
            Site = "resources:\n  - user: ku-comment\n    comment: Build Bot, room 4\n",
            Shows = ["comment: Old name → Build Bot, room 4", "$ usermod --comment 'Build Bot, room 4' ku-comment"],
            Probe = "getent passwd ku-comment | cut -d: -f5",
            Expected = "Build Bot, room 4\n",
            Drift = "usermod --comment 'By hand' ku-comment",
            DriftShows = ["$ usermod --comment 'Build Bot, room 4' ku-comment"],
        },
        new("expiry-set")
        {
            Setup = "useradd ku-expiry",
            Site = "resources:\n  - user: ku-expiry\n    expiry: 2031-06-30\n",
            Shows = ["expiry: absent → 2031-06-30", "$ usermod --expiredate 2031-06-30 ku-expiry"],
            Probe = "getent shadow ku-expiry | cut -d: -f8",
            Expected = $"{Days(2031, 6, 30)}\n",
            Drift = "chage --expiredate 2040-01-01 ku-expiry",
            DriftShows = ["expiry: 2040-01-01 → 2031-06-30"],
        },
        new("groups-minimum")
        {
            // A group added by hand stays: minimum only adds the missing ones.
            Setup = "groupadd kgm-a && groupadd kgm-b && groupadd kgm-hand && useradd --groups kgm-hand ku-gmin",
            Site = "resources:\n  - user: ku-gmin\n    groups: [kgm-b, kgm-a]\n",
            Shows = ["groups: kgm-hand → kgm-a,kgm-b,kgm-hand", "$ usermod --append --groups kgm-a,kgm-b ku-gmin"],
            Probe = "id -nG ku-gmin | tr ' ' '\\n' | sort",
            Expected = "kgm-a\nkgm-b\nkgm-hand\nku-gmin\n",
            Drift = "gpasswd --delete ku-gmin kgm-a",
            DriftShows = ["$ usermod --append --groups kgm-a ku-gmin"],
        },
        new("groups-exact")
        {
            Setup = "groupadd kge-a && groupadd kge-b && groupadd kge-hand && useradd --groups kge-a,kge-hand ku-gexact",
            Site = "resources:\n  - user: ku-gexact\n    groups: [kge-a, kge-b]\n    membership: exact\n",
            Shows = ["groups: kge-a,kge-hand → kge-a,kge-b", "$ usermod --groups kge-a,kge-b ku-gexact"],
            Probe = "id -nG ku-gexact | tr ' ' '\\n' | sort",
            Expected = "kge-a\nkge-b\nku-gexact\n",
            Drift = "gpasswd --add ku-gexact kge-hand",
            DriftShows = ["$ usermod --groups kge-a,kge-b ku-gexact"],
        },
        new("groups-exact-none")
        {
            Setup = "groupadd kgn-a && groupadd kgn-b && useradd --groups kgn-a,kgn-b ku-gnone",
            Site = "resources:\n  - user: ku-gnone\n    groups: []\n    membership: exact\n",
            Shows = ["groups: kgn-a,kgn-b → (none)", "$ usermod --groups '' ku-gnone"],
            Probe = "id -nG ku-gnone",
            Expected = "ku-gnone\n",
            Drift = "gpasswd --add ku-gnone kgn-b",
            DriftShows = ["$ usermod --groups '' ku-gnone"],
        },
        new("comment-utf8")
        {
            Setup = "useradd ku-utf8",
            Site = "resources:\n  - user: ku-utf8\n    comment: José Müller\n",
            Shows = ["$ usermod --comment 'José Müller' ku-utf8"],
            Probe = "getent passwd ku-utf8 | cut -d: -f5",
            Expected = "José Müller\n",
            Drift = "usermod --comment 'Jose Mueller' ku-utf8",
            DriftShows = ["comment: Jose Mueller → José Müller"],
        },
        new("system-user")
        {
            Site = "resources:\n  - user: ku-sys\n    system: true\n",
            Shows = ["$ useradd --system ku-sys"],
            Probe = "u=$(id -u ku-sys 2>/dev/null) && { [ $u -lt 1000 ] && echo system-uid; }; test -e /home/ku-sys || echo no-home",
            Expected = "system-uid\nno-home\n",
            Drift = "userdel ku-sys",
            DriftShows = ["$ useradd --system ku-sys"],
        },
        new("password-set")
        {
            Setup = "useradd ku-pw",
            Site = $"resources:\n  - user: ku-pw\n    password: \"{HashA}\"\n",
            // The whole argv of a sensitive change is redacted by the engine, not only the hash.
            Shows = ["password: (redacted) → (redacted)"],
            Probe = "getent shadow ku-pw | cut -d: -f2",
            Expected = HashA + "\n",
            Drift = $"usermod --password '{HashB}' ku-pw",
            DriftShows = ["password: (redacted) → (redacted)"],
            Secrets = [HashA, HashB, "kitsalt"],
        },
        new("password-changed")
        {
            Setup = $"useradd --password '{HashA}' ku-pw2",
            Site = $"resources:\n  - user: ku-pw2\n    password: \"{HashB}\"\n",
            Shows = ["password: (redacted) → (redacted)"],
            Probe = "getent shadow ku-pw2 | cut -d: -f2",
            Expected = HashB + "\n",
            Drift = "usermod --lock ku-pw2",
            DriftShows = ["password: (redacted) → (redacted)"],
            Secrets = [HashA, HashB, "kitsalt"],
        },
        new("removed-with-home")
        {
            Setup = "useradd --create-home ku-rmh",
            Site = "resources:\n  - user: ku-rmh\n    ensure: absent\n    managehome: true\n",
            Shows = ["ensure: present → absent", "$ userdel --remove ku-rmh"],
            Probe = "getent passwd ku-rmh; test -e /home/ku-rmh && echo home || echo no-home",
            Expected = "no-home\n",
            Drift = "useradd --create-home ku-rmh",
            DriftShows = ["$ userdel --remove ku-rmh"],
        },
        new("removed-keeping-home")
        {
            Setup = "useradd --create-home ku-rmk",
            Site = "resources:\n  - user: ku-rmk\n    ensure: absent\n",
            Shows = ["$ userdel ku-rmk"],
            Probe = "getent passwd ku-rmk | cut -d: -f1; test -d /home/ku-rmk && echo home-kept",
            Expected = "home-kept\n",
            Drift = "useradd ku-rmk",
            DriftShows = ["$ userdel ku-rmk"],
        },
    ];

    public static TheoryData<string> Cases => new(All.Select(c => c.Name));

    [Theory]
    [MemberData(nameof(Cases))]
    public Task UserProperty_ConvergenceKit(string name) => HostKit.RunAsync(fixture.Host, All.Single(c => c.Name == name), output);
}
