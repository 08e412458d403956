#Requires -Version 7.4
# The module over PowerShell remoting through OpenSSH, as ops scripts reach many machines: a real sshd (Debian's
# openssh-server) on 127.0.0.1 with throwaway keys and pwsh as its subsystem, then a fleet of three sshd, each in an
# IPC and mount namespace of its own (its own /dev/shm, /dev/mqueue and System V objects, like three machines), and one
# command that finds the orphaned IPC objects of all three, by host. Nothing of the system's ssh set-up is used or
# touched: each sshd has its own configuration, keys and known_hosts in a private folder, and its own empty /run.
Describe 'Remoting over SSH' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')

        function Find-Program {
            # A program by name on PATH or in the sbin folders, which a non-login PATH may lack; $null when absent.
            param([Parameter(Mandatory)][string] $Name)
            $found = Get-Command -Name $Name -CommandType Application -ErrorAction Ignore | Select-Object -First 1
            if ($found) { return $found.Source }
            foreach ($folder in '/usr/sbin', '/sbin') {
                if (Test-Path -LiteralPath (Join-Path $folder $Name) -PathType Leaf) { return Join-Path $folder $Name }
            }
            $null
        }

        function Get-FreeTcpPort {
            # A port nothing listens on at the moment it is asked (the kernel picks it); Start-SshHost retries when
            # another program takes it before sshd binds it.
            $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
            try { $listener.Start(); $listener.LocalEndpoint.Port } finally { $listener.Stop() }
        }

        function Test-TcpAccept {
            # Whether something accepts a TCP connection on 127.0.0.1:$Port now (bounded: a refused connect is immediate).
            param([Parameter(Mandatory)][int] $Port)
            $client = [System.Net.Sockets.TcpClient]::new()
            try { $client.ConnectAsync([System.Net.IPAddress]::Loopback, $Port).Wait(1000) }
            catch { $false }
            finally { $client.Dispose() }
        }

        function Start-SshHost {
            # One sshd on 127.0.0.1, in the foreground (-D) as a child of this session, in a mount namespace of its own
            # (and with -OwnIpc an IPC namespace: a fresh tmpfs on /dev/shm and a fresh mqueue filesystem on
            # /dev/mqueue). Its /run is an empty tmpfs holding the privilege-separation directory /run/sshd, which
            # Debian makes only when its own ssh service starts. Returns when sshd accepts connections.
            param([Parameter(Mandatory)][string] $Name, [switch] $OwnIpc)
            $folder = Join-Path $script:sshFolder $Name
            $null = New-Item -ItemType Directory -Path $folder
            & $script:sshKeygen -q -t ed25519 -N '' -C "sysprog-test-$Name" -f (Join-Path $folder 'host_key')
            if ($LASTEXITCODE) { throw "ssh-keygen failed ($LASTEXITCODE) making the host key of $Name." }
            $hostKey = (Get-Content -LiteralPath (Join-Path $folder 'host_key.pub') -Raw).Trim()
            $mounts = 'mount -t tmpfs -o mode=0755 sysprog-test-run /run && mkdir -m 0755 /run/sshd'
            if ($OwnIpc) {
                $mounts += ' && mount -t tmpfs -o mode=1777 sysprog-test-shm /dev/shm && mount -t mqueue sysprog-test-mqueue /dev/mqueue'
            }
            $namespaces = [string[]] $(if ($OwnIpc) { '--ipc', '--mount' } else { '--mount' })
            foreach ($attempt in 1..3) {
                $port = Get-FreeTcpPort
                $config = Join-Path $folder 'sshd_config'
                $log = Join-Path $folder 'sshd.log'
                # StrictModes would refuse the authorized_keys file for the folder it lives under (/tmp is writable by
                # all); the folder itself is private (0700), made here with nothing else in it.
                Set-Content -LiteralPath $config -Value @(
                    "ListenAddress 127.0.0.1:$port"
                    "HostKey $folder/host_key"
                    'PidFile none'
                    "AuthorizedKeysFile $script:sshFolder/authorized_keys"
                    'StrictModes no'
                    'UsePAM no'
                    'PasswordAuthentication no'
                    'KbdInteractiveAuthentication no'
                    'PubkeyAuthentication yes'
                    'PermitRootLogin prohibit-password'
                    'PrintMotd no'
                    "Subsystem powershell $script:sshFolder/pwsh-subsystem"
                )
                $start = [System.Diagnostics.ProcessStartInfo]::new($script:unshare)
                # The shell's stderr goes to sshd's log too, so a failed mount is read there; exec leaves sshd itself
                # the child this session owns, in the namespaces unshare made.
                foreach ($argument in $namespaces + [string[]] @('--propagation', 'private', '/bin/sh', '-c',
                        "exec 2>>`"`$3`"; $mounts && exec `"`$1`" -D -f `"`$2`" -E `"`$3`"",
                        'sysprog-test-sshd', $script:sshd, $config, $log)) {
                    $start.ArgumentList.Add($argument)
                }
                $start.UseShellExecute = $false
                $process = [System.Diagnostics.Process]::Start($start)
                $script:sshProcesses.Add($process)
                $accepting = Wait-Until -TimeoutSeconds 20 { $process.HasExited -or (Test-TcpAccept -Port $port) }
                if ($accepting -and -not $process.HasExited) {
                    return [pscustomobject]@{
                        Name = $Name; Port = $port; Process = $process; HostKey = $hostKey; Log = $log
                        # Which namespaces are its own, to prove they end with it.
                        MountNamespace = (Get-Item -LiteralPath "/proc/$($process.Id)/ns/mnt").LinkTarget
                        IpcNamespace = (Get-Item -LiteralPath "/proc/$($process.Id)/ns/ipc").LinkTarget
                    }
                }
                Stop-SshHostProcess $process
                $why = if (Test-Path -LiteralPath $log) { (Get-Content -LiteralPath $log) -join ' / ' } else { 'no log' }
                if ($why -notmatch 'Address already in use') { throw "sshd for $Name did not start on port ${port}: $why" }
            }
            throw "sshd for $Name found no free port in 3 attempts."
        }

        function Stop-SshHostProcess {
            # Kills an sshd with whatever it started (sessions, their pwsh) and reaps it.
            param([Parameter(Mandatory)][System.Diagnostics.Process] $Process)
            if (-not $Process.HasExited) { $Process.Kill($true) }
            $Process.WaitForExit()
        }

        function Get-NamespaceMember {
            # The processes whose namespace link (/proc/PID/ns/mnt or ipc) is $Namespace: none once it is gone.
            param([Parameter(Mandatory)][string] $Kind, [Parameter(Mandatory)][string] $Namespace)
            foreach ($entry in [System.IO.Directory]::EnumerateDirectories('/proc')) {
                $id = Split-Path -Leaf $entry
                if ($id -notmatch '^\d+$') { continue }
                # The link's own text ("ipc:[4026532176]"), not a path resolved from it.
                try { $link = [System.IO.FileInfo]::new("$entry/ns/$Kind").LinkTarget } catch { continue }
                if ($link -eq $Namespace) { [int] $id }
            }
        }

        function New-SshSessionTo {
            # A session to one of the hosts under its own name: ssh is told the real address (-o HostName) and checks
            # the host's throwaway key under that name (HostKeyAlias) in this test's known_hosts only, never asking.
            param([Parameter(Mandatory)] $SshHost, [string] $HostName = $SshHost.Name)
            try {
                New-PSSession -HostName $HostName -Port $SshHost.Port -UserName root -KeyFilePath $script:clientKey `
                    -Options (Get-SshOption -HostName $HostName) -ConnectingTimeout 60000 -ErrorAction Stop
            }
            catch {
                # What sshd saw is the half of the story the client's error lacks.
                throw "No session to $HostName (port $($SshHost.Port)): $($_.Exception.Message) sshd's log: $((Get-Content -LiteralPath $SshHost.Log -ErrorAction Ignore) -join ' / ')"
            }
        }

        function Get-SshOption {
            # The ssh client options every connection here uses: this test's known_hosts only, and BatchMode (a
            # prompt would wait for ever; a refusal fails at once). With -HostName, a host's own name stands for
            # 127.0.0.1: ssh is told the real address and checks the host key under that name (HostKeyAlias).
            param([string] $HostName)
            $options = @{
                UserKnownHostsFile = $script:knownHosts; GlobalKnownHostsFile = '/dev/null'; StrictHostKeyChecking = 'yes'
                BatchMode = 'yes'; IdentitiesOnly = 'yes'
            }
            if ($HostName) { $options.HostName = '127.0.0.1'; $options.HostKeyAlias = $HostName }
            $options
        }

        function Get-TableHeader {
            # The column labels of a table as rendered at 80 columns: each run of dashes under the header, with the
            # header lines' text above it joined (a label wider than its column wraps onto a second line).
            param([Parameter(Mandatory)][string[]] $Rendered)
            $lines = ($Rendered -join "`n") -split "`n"
            $dashes = [array]::FindIndex($lines, [Predicate[string]] { param($line) $line -match '^\s*-+(\s+-+)*\s*$' })
            $header = @($lines[0..($dashes - 1)] | Select-Object -Last 2 | Where-Object { $_ -match '\S' -and $_ -notmatch ':' })
            foreach ($run in [regex]::Matches($lines[$dashes], '-+')) {
                ($header | ForEach-Object { if ($_.Length -gt $run.Index) { $_.Substring($run.Index, [Math]::Min($run.Length, $_.Length - $run.Index)).Trim() } }) -join ''
            }
        }

        $script:sshProcesses = [System.Collections.Generic.List[System.Diagnostics.Process]]::new()
        $script:sessions = [System.Collections.Generic.List[object]]::new()
        $script:hosts = @{}
        $script:skipReason = $null
        $script:sshd = Find-Program sshd
        $script:unshare = Find-Program unshare
        $script:sshKeygen = Find-Program ssh-keygen
        if (-not $script:sshd) { $script:skipReason = 'sshd is not installed (Debian: openssh-server)' }
        elseif (-not (Find-Program ssh) -or -not $script:sshKeygen) { $script:skipReason = 'the ssh client is not installed (Debian: openssh-client)' }
        elseif (-not $script:unshare) { $script:skipReason = 'unshare is not installed (Debian: util-linux)' }
        elseif ((id -u) -ne '0') { $script:skipReason = 'needs root: the key logs in as root, and unshare and mount need root' }
        else {
            # Root without CAP_SYS_ADMIN (a container's, say) may not make namespaces: asked of unshare itself.
            $refusal = & $script:unshare --ipc --mount --propagation private /bin/true 2>&1
            if ($LASTEXITCODE) { $script:skipReason = "unshare --ipc --mount is refused here: $refusal" }
        }
        if ($script:skipReason) { return }

        # A private folder (0700, made by .NET) for keys, configuration and logs; removed after.
        $script:sshFolder = [System.IO.Directory]::CreateTempSubdirectory('sysprog-remoting-').FullName
        $script:clientKey = Join-Path $script:sshFolder 'client_key'
        $script:knownHosts = Join-Path $script:sshFolder 'known_hosts'
        & $script:sshKeygen -q -t ed25519 -N '' -C 'sysprog-test-client' -f $script:clientKey
        if ($LASTEXITCODE) { throw "ssh-keygen failed ($LASTEXITCODE) making the client key." }
        Copy-Item -LiteralPath "$script:clientKey.pub" -Destination (Join-Path $script:sshFolder 'authorized_keys')
        # The subsystem is this very pwsh, which may be the dotnet tool ("dotnet .../pwsh.dll"): a script runs it
        # with its arguments quoted, whatever the paths hold.
        $pwshCommand = Get-PwshCommand
        $quoted = @($pwshCommand) | ForEach-Object { "'" + ($_ -replace "'", "'\''") + "'" }
        $wrapper = Join-Path $script:sshFolder 'pwsh-subsystem'
        Set-Content -LiteralPath $wrapper -Value '#!/bin/sh', "exec $($quoted -join ' ') -sshs -NoLogo -NoProfile"
        chmod 0700 $wrapper
        $script:names = @{}
    }

    AfterAll {
        # What a session started first (its pwsh ending would hand it to init, out of this tree's reach), then the
        # sessions, whose sshd reaps them, then sshd with anything still under it.
        if ($script:fleetSession -and $script:fleetSession['host-a'].State -eq 'Opened') {
            Invoke-Command -Session $script:fleetSession['host-a'] -ErrorAction Ignore {
                if ($script:peer -and -not $script:peer.HasExited) { $script:peer.Kill(); $script:peer.WaitForExit() }
            }
        }
        foreach ($session in $script:sessions) { Remove-PSSession -Session $session -ErrorAction Ignore }
        foreach ($process in $script:sshProcesses) { Stop-SshHostProcess $process }
        # Whatever a failed test left in the namespaces made here is this test's: nothing else can be in them.
        foreach ($sshHost in $script:hosts.Values) {
            foreach ($id in Get-NamespaceMember -Kind mnt -Namespace $sshHost.MountNamespace) { Stop-Process -Id $id -Force -ErrorAction Ignore }
        }
        if ($script:sshFolder -and (Test-Path -LiteralPath $script:sshFolder)) { Remove-Item -LiteralPath $script:sshFolder -Recurse -Force }
        # Part one made its objects in this machine's /dev/shm; the fleet's were in namespaces that are gone.
        if ($script:names.Count) { $script:names.Values | ForEach-Object { if (Test-Path -LiteralPath "/dev/shm$_") { Remove-SharedMemory -Name $_ -Confirm:$false } } }
    }

    Context 'one machine: Invoke-Command -HostName 127.0.0.1' {
        It 'brings objects back deserialized with their properties, holders with their process ids, and PSComputerName' {
            if ($script:skipReason) { Set-ItResult -Skipped -Because $script:skipReason; return }
            $script:hosts['single'] = Start-SshHost -Name 'single'
            $single = $script:hosts['single']
            Add-Content -LiteralPath $script:knownHosts -Value "[127.0.0.1]:$($single.Port) $($single.HostKey)"
            $name = $script:names['held'] = New-TestName
            $options = Get-SshOption
            $results = Invoke-Command -HostName 127.0.0.1 -Port $single.Port -UserName root -KeyFilePath $script:clientKey `
                -Options $options -ConnectingTimeout 60000 -ErrorAction Stop -ScriptBlock {
                    Import-Module $using:SysprogModulePath -ErrorAction Stop
                    $memory = New-SharedMemory -Name $using:name -Size 4KB
                    # Each at the top of the output, as a user's command returns it (nested in another object, it would
                    # be serialized one level shallower).
                    $PID
                    $memory
                    Get-IpcObject -Name $using:name -WarningAction SilentlyContinue
                    Close-SharedMemory $memory
                    Remove-SharedMemory -Name $using:name -Confirm:$false
                }
            $remotePid, $handle, $listing = $results
            $results.PSComputerName | Should -Be '127.0.0.1', '127.0.0.1', '127.0.0.1'
            $remotePid | Should -Not -Be $PID
            $handle.PSObject.TypeNames[0] | Should -Be 'Deserialized.Sysprog.SharedMemory'
            $handle.Name | Should -Be $name
            $handle.Size | Should -Be 4096
            $handle.Mode | Should -Be '0600'
            $listing.PSObject.TypeNames[0] | Should -Be 'Deserialized.Sysprog.IpcObject'
            $listing.Kind | Should -BeExactly 'SharedMemory'
            $listing.State | Should -Be 'held'
            $listing.Holders.ProcessId | Should -Be $remotePid
            $listing.Holders.How | Should -Be 'Descriptor'
            # Removed over there, so gone here: it was this machine's /dev/shm.
            Test-Path -LiteralPath "/dev/shm$name" | Should -BeFalse
        }

        It 'renders them with the module''s views at 80 columns, the same columns as here, PSComputerName added' {
            if ($script:skipReason) { Set-ItResult -Skipped -Because $script:skipReason; return }
            $single = $script:hosts['single']
            $options = Get-SshOption
            $session = New-PSSession -HostName 127.0.0.1 -Port $single.Port -UserName root -KeyFilePath $script:clientKey `
                -Options $options -ConnectingTimeout 60000 -ErrorAction Stop
            $script:sessions.Add($session)
            $name = $script:names['rendered'] = New-TestName
            $remote = Invoke-Command -Session $session {
                Import-Module $using:SysprogModulePath -ErrorAction Stop
                $script:memory = New-SharedMemory -Name $using:name -Size 4KB
                $script:memory
                Get-IpcObject -Name $using:name -WarningAction SilentlyContinue
            }
            $hidden = Invoke-Command -Session $session -HideComputerName { $script:memory; Get-IpcObject -Name $using:name -WarningAction SilentlyContinue }
            $local = @((Open-SharedMemory -Name $name), (Get-IpcObject -Name $name -WarningAction SilentlyContinue))
            try {
                foreach ($index in 0, 1) {
                    $here = Get-TableHeader ($local[$index] | Format-Table | Out-String -Width 80)
                    $there = Get-TableHeader ($remote[$index] | Format-Table | Out-String -Width 80)
                    $here | Should -Not -BeNullOrEmpty
                    $there | Should -Be (@($here) + 'PSComputerName') -Because "$($remote[$index].PSObject.TypeNames[0]) renders with the view of $($local[$index].GetType())"
                    # Hidden, the computer's name leaves the view exactly as it is here.
                    Get-TableHeader ($hidden[$index] | Format-Table | Out-String -Width 80) | Should -Be $here
                }
                ($remote[1] | Format-Table | Out-String -Width 80) | Should -Match ([regex]::Escape($name.Substring(0, 8)))
            }
            finally {
                Close-SharedMemory $local[0]
                Invoke-Command -Session $session { Close-SharedMemory $script:memory; Remove-SharedMemory -Name $using:name -Confirm:$false }
            }
            Test-Path -LiteralPath "/dev/shm$name" | Should -BeFalse
        }
    }

    Context 'a fleet: three sshd, each in an IPC and mount namespace of its own, like three machines' {
        BeforeAll {
            if ($script:skipReason) { return }
            $script:fleetNames = 'host-a', 'host-b', 'host-c'
            foreach ($name in $script:fleetNames) {
                $script:hosts[$name] = Start-SshHost -Name $name -OwnIpc
                Add-Content -LiteralPath $script:knownHosts -Value "$name $($script:hosts[$name].HostKey)"
            }
            # All three are 127.0.0.1: each answers to its own name (so PSComputerName tells them apart) and port.
            $script:fleetSession = @{}
            $script:fleet = foreach ($name in $script:fleetNames) {
                $script:fleetSession[$name] = New-SshSessionTo $script:hosts[$name]
                $script:sessions.Add($script:fleetSession[$name])
                $script:fleetSession[$name]
            }
            Invoke-Command -Session $script:fleet { Import-Module $using:SysprogModulePath -ErrorAction Stop }
            $script:before = Invoke-Command -Session $script:fleet {
                [pscustomobject]@{
                    Shm = @(Get-ChildItem -LiteralPath /dev/shm -Name); Mqueue = @(Get-ChildItem -LiteralPath /dev/mqueue -Name)
                    Objects = @(Get-IpcObject -WarningAction SilentlyContinue).Count
                }
            }

            # What each machine gets: the same name on two of them, orphaned on one and held on the other, so that
            # an object of one namespace showing in another would be seen.
            $script:planted = @{
                Common = New-TestName; AOrphan = New-TestName; BQueue = New-TestName; BSemaphore = New-TestName; CHeld = New-TestName
            }
            $names = $script:planted
            Invoke-Command -Session $script:fleetSession['host-a'] {
                New-SharedMemory -Name $using:names.Common -Size 4KB | Close-SharedMemory
                New-SharedMemory -Name $using:names.AOrphan -Size 8KB | Close-SharedMemory
            }
            Invoke-Command -Session $script:fleetSession['host-b'] {
                # Held by this session until it ends: not an orphan here, although host-a's object of the name is.
                $script:held = New-SharedMemory -Name $using:names.Common -Size 4KB
                New-MessageQueue -Name $using:names.BQueue -MaxMessages 4 -MaxMessageSize 64 | Close-MessageQueue
                New-Semaphore -Name $using:names.BSemaphore -Value 1 | Close-Semaphore
            }
            $script:segmentId = Invoke-Command -Session $script:fleetSession['host-c'] {
                $script:held = New-SharedMemory -Name $using:names.CHeld -Size 4KB
                # A System V segment nobody attaches: ipcmk makes it and exits.
                $made = ipcmk -M 4096
                if ($LASTEXITCODE -or "$made" -notmatch 'id: (\d+)') { throw "ipcmk failed: $made" }
                $id = [int] $Matches[1]
                [pscustomobject]@{ Id = $id; Key = (Get-IpcObject -Kind SysVSharedMemory -WarningAction SilentlyContinue | Where-Object Id -EQ $id).Name }
            }
            $script:segmentKey = $script:segmentId.Key
            $script:segmentId = $script:segmentId.Id
        }

        It 'gives each machine its own /dev/shm, /dev/mqueue and System V objects, empty at the start' {
            if ($script:skipReason) { Set-ItResult -Skipped -Because $script:skipReason; return }
            $own = (Get-Item -LiteralPath /proc/self/ns/ipc).LinkTarget
            $namespaces = @($script:fleetNames | ForEach-Object { $script:hosts[$_].IpcNamespace })
            $namespaces | Should -Not -Contain $own
            @($namespaces | Select-Object -Unique).Count | Should -Be 3
            foreach ($start in $script:before) {
                $start.Shm | Should -BeNullOrEmpty -Because "$($start.PSComputerName)'s /dev/shm is a fresh tmpfs"
                $start.Mqueue | Should -BeNullOrEmpty -Because "$($start.PSComputerName)'s /dev/mqueue is a fresh mqueue filesystem"
                $start.Objects | Should -Be 0 -Because "$($start.PSComputerName) starts with no IPC object at all"
            }
        }

        It 'finds the orphans of all three with one command, grouped by host: exactly what was planted on each' {
            if ($script:skipReason) { Set-ItResult -Skipped -Because $script:skipReason; return }
            # The fleet command (README, about_Sysprog).
            $byHost = Invoke-Command -Session $script:fleet { Get-IpcObject -Orphaned -WarningAction SilentlyContinue } |
                Group-Object PSComputerName
            $names = $script:planted
            $found = @{}
            foreach ($group in $byHost) { $found[$group.Name] = @($group.Group | ForEach-Object { "$($_.Kind) $($_.Name) $($_.Id)".Trim() } | Sort-Object) }
            @($byHost.Name | Sort-Object) | Should -Be $script:fleetNames
            $found['host-a'] | Should -Be @("SharedMemory $($names.AOrphan)", "SharedMemory $($names.Common)" | Sort-Object)
            $found['host-b'] | Should -Be @("MessageQueue $($names.BQueue)", "Semaphore $($names.BSemaphore)" | Sort-Object)
            $found['host-c'] | Should -HaveCount 1
            $found['host-c'][0] | Should -Match "^SysVSharedMemory 0x[0-9a-f]{8} $($script:segmentId)$"
            # The whole listings: what is held is held by each machine's own session, and listed only there.
            $all = Invoke-Command -Session $script:fleet { Get-IpcObject -WarningAction SilentlyContinue }
            $common = @($all | Where-Object Name -EQ $names.Common)
            $common | ForEach-Object { "$($_.PSComputerName) $($_.State)" } | Sort-Object | Should -Be 'host-a orphaned', 'host-b held'
            $held = @($all | Where-Object Name -EQ $names.CHeld)
            $held.PSComputerName | Should -Be 'host-c'
            $held.State | Should -Be 'held'
            $remotePids = Invoke-Command -Session $script:fleetSession['host-c'] { $PID }
            $held.Holders.ProcessId | Should -Be $remotePids
            # Rendered by host with the module's view, the computer name aside.
            $text = Invoke-Command -Session $script:fleet { Get-IpcObject -Orphaned -WarningAction SilentlyContinue } -HideComputerName |
                Sort-Object PSComputerName | Format-Table -GroupBy PSComputerName | Out-String -Width 80
            foreach ($name in $script:fleetNames) { $text | Should -Match "PSComputerName: $name" }
            # The names are longer than the Name column leaves at 80 columns: their start shows.
            $text | Should -Match ([regex]::Escape($names.AOrphan.Substring(0, 12)))
            foreach ($line in $text -split '\r?\n') { $line.Length | Should -BeLessOrEqual 80 }
        }

        It 'does not take a process attaching another host''s segment of the same id for a holder of this host''s' {
            if ($script:skipReason) { Set-ItResult -Skipped -Because $script:skipReason; return }
            $cc = Find-Program cc
            if (-not $cc) { Set-ItResult -Skipped -Because 'cc is not installed: the peer that attaches a segment is C'; return }
            # Every IPC namespace numbers its segments from the same start, and /proc/PID/maps names an attached
            # segment by its id alone: a peer on host-a attaching host-a's first segment maps the id of host-c's.
            $peer = Join-Path $script:sshFolder 'attach-segment'
            @'
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>
int main(void) {
    int id = shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0600);
    if (id < 0 || shmat(id, 0, 0) == (void *)-1) return 1;
    pause();
    return 0;
}
'@ | & $cc -x c - -o $peer
            $LASTEXITCODE | Should -Be 0 -Because 'cc builds the peer'
            try {
                $attached = Invoke-Command -Session $script:fleetSession['host-a'] {
                    # A child of this session's pwsh, so that it ends with the session; nothing of it may reach the
                    # session's own stdin and stdout, which are the SSH channel (it writes nothing: the file stays empty).
                    $script:peer = Start-Process -FilePath $using:peer -PassThru -RedirectStandardInput /dev/null `
                        -RedirectStandardOutput "$using:peer.out" -ErrorAction Stop
                    $deadline = [DateTime]::UtcNow.AddSeconds(30)
                    while (-not ($segment = Get-IpcObject -Kind SysVSharedMemory -WarningAction SilentlyContinue | Where-Object { $_.Holders.ProcessId -contains $script:peer.Id }) -and
                        -not $script:peer.HasExited -and [DateTime]::UtcNow -lt $deadline) {
                        Start-Sleep -Milliseconds 10
                    }
                    [pscustomobject]@{ PeerId = $script:peer.Id; Segment = $segment }
                }
                $attached.Segment | Should -Not -BeNullOrEmpty -Because 'the peer on host-a attaches its segment'
                $attached.Segment.Id | Should -Be $script:segmentId -Because 'both namespaces give their first segment the same id, which is the case this checks'
                $orphans = Invoke-Command -Session $script:fleet { Get-IpcObject -Orphaned -Kind SysVSharedMemory -WarningAction SilentlyContinue }
                @($orphans | ForEach-Object { "$($_.PSComputerName) $($_.Id)" }) | Should -Be "host-c $($script:segmentId)"
                $onC = Invoke-Command -Session $script:fleetSession['host-c'] { Get-IpcObject -Kind SysVSharedMemory -WarningAction SilentlyContinue }
                $onC.Holders | Should -BeNullOrEmpty
            }
            finally {
                Invoke-Command -Session $script:fleetSession['host-a'] { if ($script:peer) { $script:peer.Kill(); $script:peer.WaitForExit() } }
            }
        }

        It 'leaves nothing planted on the fleet in this machine''s /dev/shm, /dev/mqueue or System V objects' {
            if ($script:skipReason) { Set-ItResult -Skipped -Because $script:skipReason; return }
            foreach ($name in $script:planted.Values) {
                Test-Path -LiteralPath "/dev/shm$name" | Should -BeFalse
                Test-Path -LiteralPath "/dev/shm/sem.$($name.Substring(1))" | Should -BeFalse
                Test-MessageQueueName -Name $name | Should -BeFalse
            }
            # A System V key is host-c's random pick (ipcmk): here, no segment has it.
            $script:segmentKey | Should -Match '^0x[0-9a-f]{8}$'
            @(Get-IpcObject -Kind SysVSharedMemory -WarningAction SilentlyContinue | Where-Object Name -EQ $script:segmentKey) | Should -BeNullOrEmpty
        }

        It 'ends with its sshd: processes reaped, namespaces gone, keys and folders removed' {
            if ($script:skipReason) { Set-ItResult -Skipped -Because $script:skipReason; return }
            foreach ($session in $script:sessions) { Remove-PSSession -Session $session }
            $script:sessions.Clear()
            foreach ($sshHost in $script:hosts.Values) {
                # A session ends with its connection: its sshd process exits and the listener reaps it.
                Wait-Until -TimeoutSeconds 20 { -not (Get-ChildProcessId -ParentId $sshHost.Process.Id -Name sshd) } |
                    Should -BeTrue -Because "$($sshHost.Name)'s sshd reaps its ended sessions"
                Stop-SshHostProcess $sshHost.Process
                $sshHost.Process.HasExited | Should -BeTrue
            }
            foreach ($sshHost in $script:hosts.Values) {
                # The namespace lives as long as a process is in it: a session's pwsh ended by the kill is reaped by
                # init, not by this process, so this waits for it (bounded), then asserts.
                $null = Wait-Until -TimeoutSeconds 10 { -not (Get-NamespaceMember -Kind mnt -Namespace $sshHost.MountNamespace) }
                @(Get-NamespaceMember -Kind mnt -Namespace $sshHost.MountNamespace) | Should -BeNullOrEmpty -Because "$($sshHost.Name)'s mount namespace ends with its last process"
                if ($sshHost.Name -like 'host-*') {
                    @(Get-NamespaceMember -Kind ipc -Namespace $sshHost.IpcNamespace) | Should -BeNullOrEmpty -Because "$($sshHost.Name)'s IPC namespace ends with it, and its objects with it"
                }
            }
            Remove-Item -LiteralPath $script:sshFolder -Recurse -Force
            Test-Path -LiteralPath $script:sshFolder | Should -BeFalse
        }
    }
}
