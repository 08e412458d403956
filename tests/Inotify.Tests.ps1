#Requires -Version 7.4
# inotify from pwsh: what file operations report, a rename pair, paths piped in and wildcards, errors that name the
# path, reads that time out or follow, watches removed, Wait-FileDescriptor with events read ahead, an overflow, and
# Ctrl+C during a wait.
Describe 'inotify' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
    }

    BeforeEach {
        $script:fdsBefore = Get-FdListing
        $script:folder = (New-Item -ItemType Directory -Path (Join-Path $TestDrive ([guid]::NewGuid().ToString('N')))).FullName
        $script:inotify = New-Inotify $script:folder
    }

    AfterEach {
        Close-Inotify $script:inotify
        Assert-NoFdLeft -Since $script:fdsBefore
    }

    It 'reports what file operations do, with paths, and pairs a rename' {
        $file = Join-Path $script:folder 'a.txt'
        Set-Content -LiteralPath $file -Value 'hello'
        Rename-Item -LiteralPath $file -NewName 'b.txt'
        $null = New-Item -ItemType Directory -Path (Join-Path $script:folder 'sub')
        Remove-Item -LiteralPath (Join-Path $script:folder 'b.txt')

        $events = @(Read-Inotify $script:inotify -Count 7 -TimeoutSeconds 5)

        $events.ForEach({ "$($_.EventNames) $($_.Name)" }) | Should -Be @(
            'CREATE a.txt', 'MODIFY a.txt', 'CLOSE_WRITE,CLOSE a.txt', 'MOVED_FROM a.txt', 'MOVED_TO b.txt', 'CREATE,ISDIR sub', 'DELETE b.txt')
        $events[0].Path | Should -Be $file
        $events[4].Cookie | Should -Be $events[3].Cookie
        $events[4].MovedFrom | Should -Be $file
        $events[5].IsDirectory | Should -BeTrue
        $events | ForEach-Object { $_.Watch.Descriptor | Should -Be $script:inotify.Watches[0].Descriptor }
    }

    It 'takes paths from the pipeline and expands wildcards, one watch per file' {
        'a.log', 'b.log', 'c.txt' | ForEach-Object { Set-Content -LiteralPath (Join-Path $script:folder $_) -Value '' }

        $piped = Get-ChildItem -LiteralPath $script:folder -Filter '*.log' | New-Inotify -Event CloseWrite
        $expanded = New-Inotify (Join-Path $script:folder '*.log') -Event CloseWrite
        try {
            $piped.Watches.Path | Split-Path -Leaf | Should -Be @('a.log', 'b.log')
            $expanded.Watches.Path | Split-Path -Leaf | Should -Be @('a.log', 'b.log')
            Add-Content -LiteralPath (Join-Path $script:folder 'b.log') -Value 'more'
            (Read-Inotify $expanded -TimeoutSeconds 5).Path | Should -Be (Join-Path $script:folder 'b.log')
        }
        finally {
            Close-Inotify $piped, $expanded
        }
    }

    It 'names a path that cannot be watched, with the errno, and still writes the instance with the others' {
        $missing = Join-Path $script:folder 'missing'

        $made = New-Inotify $missing, $script:folder -ErrorAction SilentlyContinue -ErrorVariable failed
        try {
            $failed.Count | Should -Be 1
            $failed[0].FullyQualifiedErrorId | Should -BeLike 'InotifyAddWatch.ENOENT,*'
            $failed[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $failed[0].TargetObject | Should -Be $missing
            $failed[0].Exception.Message | Should -BeLike "inotify_add_watch(`"$missing`") failed: ENOENT*"
            $made.Watches.Path | Should -Be @($script:folder)
        }
        finally {
            Close-Inotify $made
        }
    }

    It 'refuses events that are reported only, before any call' {
        { Add-InotifyWatch $script:inotify $script:folder -Event Ignored -Verbose -ErrorAction Stop 4>&1 } |
            Should -Throw -ErrorId 'InvalidArgument,Sysprog.PowerShell.Commands.AddInotifyWatchCommand'
    }

    It 'times out with an error naming the instance, and -Wait ends quietly after a quiet -TimeoutSeconds' {
        Read-Inotify $script:inotify -TimeoutSeconds 0.1 -ErrorAction SilentlyContinue -ErrorVariable failed
        $failed[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
        $failed[0].Exception.Message | Should -BeLike "Nothing to read from $($script:inotify.Description) within*"

        Set-Content -LiteralPath (Join-Path $script:folder 'one') -Value ''
        $followed = @(Read-Inotify $script:inotify -Wait -TimeoutSeconds 0.3 -ErrorVariable quiet)
        $followed.EventNames | Should -Be @('CREATE', 'MODIFY', 'CLOSE_WRITE,CLOSE')
        $quiet.Count | Should -Be 0
    }

    It 'says how many of -Count came before a timeout, and refuses -Count with -Wait' {
        Set-Content -LiteralPath (Join-Path $script:folder 'one') -Value ''

        $got = @(Read-Inotify $script:inotify -Count 5 -TimeoutSeconds 0.2 -ErrorAction SilentlyContinue -ErrorVariable failed)

        $got.Count | Should -Be 3
        $failed[0].Exception.Message | Should -BeLike '*gave 3 of 5 events*'
        { Read-Inotify $script:inotify -Count 1 -Wait } | Should -Throw -ErrorId 'InvalidArgument,Sysprog.PowerShell.Commands.ReadInotifyCommand'
    }

    It 'removes a watch by path or object, and the read shows where its events end' {
        $other = (New-Item -ItemType Directory -Path (Join-Path $script:folder 'other')).FullName
        $watch = Add-InotifyWatch $script:inotify $other
        $null = Read-Inotify $script:inotify -TimeoutSeconds 5

        Remove-InotifyWatch -InputObject $script:inotify -Path $script:folder
        $watch | Remove-InotifyWatch
        Remove-InotifyWatch -InputObject $script:inotify -Path $script:folder -ErrorAction SilentlyContinue -ErrorVariable failed

        $script:inotify.Watches | Should -BeNullOrEmpty
        $watch.IsActive | Should -BeFalse
        @(Read-Inotify $script:inotify -TimeoutSeconds 5).EventNames | Should -Be @('IGNORED', 'IGNORED')
        $failed[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'ItemNotFound,*'
    }

    It 'is ready in Wait-FileDescriptor with events read ahead, though the kernel has none left' {
        $idle = New-EventFd
        try {
            Set-Content -LiteralPath (Join-Path $script:folder 'one') -Value ''
            $null = Read-Inotify $script:inotify -Count 1
            $script:inotify.BufferedCount | Should -Be 2

            $ready = @(Wait-FileDescriptor $idle, $script:inotify -TimeoutSeconds 5)

            $ready.Count | Should -Be 1
            $ready[0].Handle | Should -Be $script:inotify
        }
        finally {
            Close-EventFd $idle
        }
    }

    It 'warns when the kernel queue overflowed, and ends the events with one QueueOverflow' {
        $a = [System.IO.File]::OpenWrite((Join-Path $script:folder 'a'))
        $b = [System.IO.File]::OpenWrite((Join-Path $script:folder 'b'))
        $null = Read-Inotify $script:inotify -Count 2
        try {
            # Two files in turn, so the kernel cannot merge an event with the one before it.
            foreach ($i in 1..($script:inotify.QueueLimit + 10)) {
                $a.WriteByte(1); $a.Flush()
                $b.WriteByte(1); $b.Flush()
            }
        }
        finally {
            $a.Dispose()
            $b.Dispose()
        }

        $events = @(Read-Inotify $script:inotify -Wait -TimeoutSeconds 0.5 -WarningVariable warned -WarningAction SilentlyContinue)

        $events[-1].IsOverflow | Should -BeTrue
        @($events | Where-Object IsOverflow).Count | Should -Be 1
        $script:inotify.OverflowCount | Should -Be 1
        $warned.Count | Should -Be 1
        "$($warned[0])" | Should -BeLike '*max_queued_events*overflowed*'
    }

    It 'closes its descriptor, ending every watch' {
        $before = Get-FdListing
        $made = New-Inotify $script:folder
        $watch = $made.Watches[0]
        @(Get-FdOpenedSince $before) | Should -BeLike "$($made.Fd) -> anon_inode:inotify*" -Because 'the leak check sees the descriptor while it is open'

        Close-Inotify $made

        @(Get-FdOpenedSince $before) | Should -BeNullOrEmpty
        $watch.IsActive | Should -BeFalse
    }

    It 'stops a -Wait read promptly when the pipeline is stopped' {
        Assert-StopsPromptly -Start { param($ps) $null = $ps.AddScript("`$i = New-Inotify '$script:folder'; try { Read-Inotify `$i -Wait -Verbose } finally { Close-Inotify `$i }") } `
            -BlockedIn poll, ppoll
    }
}
