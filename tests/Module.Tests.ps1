#Requires -Version 7.4
Describe 'The Sysprog module' {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        # The assembled manifest: RootModule and FormatsToProcess resolve there.
        $script:manifest = Test-ModuleManifest -Path $SysprogModulePath
    }

    It 'has a valid manifest whose exports are the loaded cmdlets' {
        $script:manifest.Name | Should -Be 'Sysprog'
        $exported = (Get-Command -Module Sysprog -CommandType Cmdlet).Name | Sort-Object
        $exported | Should -Be ($script:manifest.ExportedCmdlets.Keys | Sort-Object)
    }

    It 'uses approved verbs only' {
        $approved = (Get-Verb).Verb
        (Get-Command -Module Sysprog).Verb | Where-Object { $_ -notin $approved } | Should -BeNullOrEmpty
    }

    It 'loads a table view for each output type' {
        foreach ($type in 'Sysprog.SharedMemory', 'Sysprog.SharedMemoryInfo', 'Sysprog.MemoryMapping', 'Sysprog.ProcessMapping') {
            Get-FormatData -TypeName $type | Should -Not -BeNullOrEmpty -Because "$type needs a view"
        }
    }

    It 'formats its objects without errors' {
        $map = New-MemoryMap -Anonymous -Size 4KB
        try {
            ($map | Format-Table | Out-String) | Should -Match '0x[0-9a-f]+'
            (Get-ProcessMapping | Select-Object -First 3 | Format-Table | Out-String) | Should -Match 'Perms'
        }
        finally {
            Close-MemoryMap $map
        }
    }

    It 'shows the docs/ synopsis as help for every cmdlet' {
        $helpFile = Join-Path (Split-Path -Parent (Get-Module Sysprog).Path) 'en-US' 'Sysprog.PowerShell.dll-Help.xml'
        if (-not (Test-Path -LiteralPath $helpFile)) {
            Set-ItResult -Skipped -Because 'the help XML is built by ./build.ps1 -Task Docs, which needs platyPS; it was not built'
            return
        }
        foreach ($command in Get-Command -Module Sysprog) {
            $page = Get-Content -LiteralPath (Join-Path $PSScriptRoot '..' 'docs' "$($command.Name).md")
            $synopsis = $page[([array]::IndexOf($page, '## SYNOPSIS') + 1)]
            (Get-Help $command.Name).Synopsis | Should -Be $synopsis -Because $command.Name
        }
    }
}
