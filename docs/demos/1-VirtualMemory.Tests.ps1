#Requires -Version 7.4
# Screenplay 1: a file read through memory alone, and the mapping as the kernel lists it.
#   Invoke-Pester ./docs/demos -Output Detailed
Describe 'Virtual memory: /etc/passwd through mmap, and /proc/PID/maps' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        $script:map = New-MemoryMap -Path /etc/passwd
    }

    AfterAll {
        if ($script:map) { Close-MemoryMap $script:map }
    }

    It 'maps /etc/passwd read-only: its bytes are now memory of this process' {
        $script:map.Length | Should -Be (Get-Item /etc/passwd).Length
        Write-Narration "mmap gave $($script:map.Length) bytes at 0x$('{0:x}' -f $script:map.Address.ToInt64()), protection $($script:map.Protection)."
    }

    It 'reads the first account through memory alone, no read(2)' {
        $first = $script:map.ReadString().Split("`n")[0]
        $first | Should -BeLike 'root:*'
        Write-Narration "First line: $first"
    }

    It 'finds the mapping in /proc/PID/maps, with the file and its permissions' {
        $region = Get-ProcessMapping | Where-Object { $_.Contains([uint64]$script:map.Address.ToInt64()) }
        $region.Path | Should -Be '/etc/passwd'
        $region.Permissions | Should -Be 'r--s'
        Write-Narration "/proc/$PID/maps: $region"
    }

    It 'refuses a write to the read-only mapping with an error, where C would die of SIGSEGV' {
        { $script:map.WriteInt32(0, 1) } | Should -Throw '*PROT_READ*'
        Write-Narration 'The write was refused before it reached the page: the session lives on.'
    }
}
