// The consumer apps, one per bundler, each with that bundler's defaults only: what is installed,
// which files the app has, how it is built, where the build lands.
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const appFiles = join(dirname(fileURLToPath(import.meta.url)), 'app')

/** The Kysely lines of this package's peer range, each app built once on each (newest first). */
export const KYSELY_LINES = ['0.29', '0.28']

/** What every app installs besides its bundler. */
export const commonPackages = (kysely) => [`kysely@${kysely}`, 'typescript@5.9']

async function copy(from, dir, to = from) {
  await mkdir(dirname(join(dir, to)), { recursive: true })
  await copyFile(join(appFiles, from), join(dir, to))
}

/**
 * main.ts as a user of that Kysely line writes it: 0.29 keeps the Migrator in 'kysely/migration',
 * 0.28 exports it from 'kysely' (and has no 'kysely/migration').
 */
async function appSource(kysely) {
  const source = await readFile(join(appFiles, 'main.ts'), 'utf8')
  if (kysely !== '0.28') return source
  const adapted = source.replace(/from 'kysely\/migration'.*$/m, "from 'kysely'")
  if (adapted === source) throw new Error("main.ts no longer imports from 'kysely/migration': update appSource()")
  return adapted
}

async function writeMain(dir, kysely) {
  await mkdir(join(dir, 'src'), { recursive: true })
  await writeFile(join(dir, 'src/main.ts'), await appSource(kysely))
}

/** Erases main.ts's types with the app's own TypeScript: the webpack app has no loader for .ts. */
async function typesErased(dir, kysely) {
  const ts = createRequire(join(dir, 'package.json'))('typescript')
  const source = await appSource(kysely)
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
  })
  return `// Generated from main.ts by ts.transpileModule (types erased, nothing else).\n${outputText}`
}

export const BUNDLERS = [
  {
    id: 'vite',
    tool: 'vite',
    packages: ['vite@7'],
    // No vite.config: index.html + src/main.ts, as `npm create vite` lays out a vanilla-ts app.
    type: 'module',
    async writeSources(dir, kysely) {
      await copy('index.html', dir)
      await writeMain(dir, kysely)
      await copy('tsconfig.json', dir)
    },
    build: ['node_modules/.bin/vite', ['build']],
    outDir: 'dist',
    async afterBuild() {},
  },
  {
    id: 'webpack',
    tool: 'webpack',
    packages: ['webpack@5', 'webpack-cli@7'],
    // No webpack.config: the default entry ./src/index.js, output dist/main.js. An ESM app
    // ("type": "module") whose tsc resolves packages as Node does (NodeNext).
    type: 'module',
    async writeSources(dir, kysely) {
      await writeMain(dir, kysely)
      await writeFile(join(dir, 'src/index.js'), await typesErased(dir, kysely))
      await copy('tsconfig.nodenext.json', dir, 'tsconfig.json')
    },
    build: ['node_modules/.bin/webpack', ['--mode', 'production']],
    outDir: 'dist',
    // webpack makes no HTML without a plugin: a plain page that loads its bundle.
    async afterBuild(dir) {
      await copy('webpack-index.html', dir, 'dist/index.html')
    },
  },
]
