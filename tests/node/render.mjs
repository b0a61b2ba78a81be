// Real renderers as test oracles for hymt's dialect tests.
//
// Reads one JSON request on stdin:
//   {"renderer": "vitepress" | "mdx", "documents": ["...", ...], "files": {"rel/path": "text"}}
// and writes a JSON array to stdout, one entry per document:
//   vitepress: {"html": "..."}  (VitePress's own markdown renderer, default plugins)
//   mdx:       {"tree": {...}}  (normalised hast tree from @mdx-js/mdx) or {"error": "..."}
// `files` (optional) are written into a temporary srcDir so `<<< @/file` imports resolve.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** Read all of stdin as text. */
async function readStdin() {
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  return Buffer.concat(chunks).toString('utf8')
}

/** A fresh temporary srcDir holding `files` (relative path -> text). */
function makeSrcDir(files) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hymt-vp-'))
  for (const [rel, text] of Object.entries(files || {})) {
    const target = path.resolve(dir, rel)
    if (!target.startsWith(dir + path.sep)) throw new Error(`file outside srcDir: ${rel}`)
    fs.mkdirSync(path.dirname(target), { recursive: true })
    fs.writeFileSync(target, text)
  }
  return dir
}

/** Render each document with VitePress's markdown renderer, as its build does. */
async function renderVitepress(documents, files) {
  const { createMarkdownRenderer } = await import('vitepress')
  const srcDir = makeSrcDir(files)
  try {
    const logger = { warn: (msg) => process.stderr.write(`vitepress warn: ${msg}\n`) }
    const md = await createMarkdownRenderer(srcDir, {}, '/', logger)
    const render = (src, i) => {
      const relativePath = `page${i}.md`
      const file = path.join(srcDir, relativePath)
      // The same env fields VitePress's markdownToVue passes to md.render.
      const env = { path: file, relativePath, cleanUrls: false, includes: [], realPath: file }
      return md.render(src, env)
    }
    // Shiki loads embedded grammars (a <script> inside a ```md fence) lazily, so a
    // fence's highlighting depends on what came before: a first pass loads them all.
    documents.forEach(render)
    return documents.map((src, i) => ({ html: render(src, i) }))
  } finally {
    fs.rmSync(srcDir, { recursive: true, force: true })
  }
}

const PASS_THROUGH = new Set(['mdxjsEsm', 'mdxFlowExpression', 'mdxTextExpression'])

/** The value of one JSX attribute: a literal string, null (boolean) or {expression}. */
function jsxAttribute(attr) {
  if (attr.type === 'mdxJsxExpressionAttribute') return { spread: attr.value }
  const value = attr.value
  if (value === null || value === undefined) return { name: attr.name, value: null }
  if (typeof value === 'string') return { name: attr.name, value }
  return { name: attr.name, expression: value.value }
}

/** A hast node reduced to what the tests compare (no positions, no estree). */
function normalise(node) {
  const out = { type: node.type }
  if (node.type === 'element') {
    out.tagName = node.tagName
    out.properties = node.properties || {}
  } else if (node.type === 'text' || node.type === 'comment' || node.type === 'raw') {
    out.value = node.value
  } else if (node.type === 'mdxJsxFlowElement' || node.type === 'mdxJsxTextElement') {
    out.name = node.name
    out.attributes = (node.attributes || []).map(jsxAttribute)
  } else if (PASS_THROUGH.has(node.type)) {
    out.value = node.value
  }
  if (node.children) out.children = node.children.map(normalise)
  return out
}

/** Compile each document with @mdx-js/mdx (+ GFM) and return its hast tree. */
async function compileMdx(documents) {
  const { compile } = await import('@mdx-js/mdx')
  const { default: remarkGfm } = await import('remark-gfm')
  const results = []
  for (const src of documents) {
    let captured = null
    const capture = () => (tree) => { captured = normalise(tree) }
    try {
      await compile(src, { remarkPlugins: [remarkGfm], rehypePlugins: [capture] })
      results.push({ tree: captured })
    } catch (error) {
      results.push({ error: String(error && error.message ? error.message : error) })
    }
  }
  return results
}

const request = JSON.parse(await readStdin())
let result
if (request.renderer === 'vitepress') {
  result = await renderVitepress(request.documents, request.files)
} else if (request.renderer === 'mdx') {
  result = await compileMdx(request.documents)
} else {
  throw new Error(`unknown renderer: ${request.renderer}`)
}
process.stdout.write(JSON.stringify(result))
