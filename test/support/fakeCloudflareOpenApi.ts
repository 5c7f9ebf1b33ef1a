// Part of the fake Cloudflare API (test/support/fakeCloudflare.ts).
// Validates HTTP requests against an OpenAPI 3.0 description (the Cloudflare subset in
// test/fixtures/cloudflare/openapi-mtls-subset.json): path template, method, path and query parameters,
// and the JSON body. OpenAPI 3.0 schemas are not quite JSON Schema, so they are adapted for Ajv first:
// `nullable: true` becomes a `null` alternative, and properties marked `readOnly` are not required in
// requests (a ruleset's `id`, `version`, `last_updated` are only in responses).
import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

type Schema = { [k: string]: any };

export interface MatchedOperation {
  template: string;
  method: string;
  operationId?: string;
  pathParams: Record<string, string>;
}

export interface RequestCheck {
  operation?: MatchedOperation;
  errors: string[];
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const DOC_ID = 'cf-openapi';

interface CompiledOperation {
  template: string;
  method: string;
  operationId?: string;
  regex: RegExp;
  names: string[];
  literalSegments: number;
  pathParams: Map<string, ValidateFunction>;
  queryParams: Map<string, { required: boolean; validate: ValidateFunction }>;
  body?: { required: boolean; validate: ValidateFunction };
}

export class OpenApiValidator {
  private readonly ajv: Ajv;
  private readonly ajvCoerce: Ajv;
  private readonly operations: CompiledOperation[] = [];
  private readonly doc: Schema;

  constructor(spec: Schema) {
    this.doc = spec;
    const components = adaptForRequests(spec.components ?? {}, spec);
    const make = (coerceTypes: boolean) => {
      const ajv = new Ajv({ strict: false, allErrors: true, coerceTypes, validateFormats: true });
      addFormats(ajv);
      ajv.addSchema({ $id: DOC_ID, components }, DOC_ID);
      return ajv;
    };
    this.ajv = make(false);
    this.ajvCoerce = make(true);

    for (const [template, item] of Object.entries<Schema>(spec.paths ?? {})) {
      const names: string[] = [];
      const pattern = template.split('/').map(seg => {
        const m = /^\{(.+)\}$/.exec(seg);
        if (m) { names.push(m[1]); return '([^/]+)'; }
        return escapeRegex(seg);
      }).join('/');
      const literalSegments = template.split('/').filter(s => s && !s.startsWith('{')).length;
      for (const method of METHODS) {
        const op = item[method];
        if (!op) continue;
        const params = [...(item.parameters ?? []), ...(op.parameters ?? [])].map((p: Schema) => this.deref(p));
        const pathParams = new Map<string, ValidateFunction>();
        const queryParams = new Map<string, { required: boolean; validate: ValidateFunction }>();
        for (const p of params) {
          const schema = adaptForRequests(p.schema ?? {}, spec);
          // Ajv coerces inside a parent object only; wrap the value so "true" -> true, "5" -> 5.
          const wrapped = this.ajvCoerce.compile({ type: 'object', properties: { v: schema } });
          if (p.in === 'path') pathParams.set(p.name, wrapped);
          if (p.in === 'query') queryParams.set(p.name, { required: !!p.required, validate: wrapped });
        }
        let body: CompiledOperation['body'];
        if (op.requestBody) {
          const rb = this.deref(op.requestBody);
          const schema = rb.content?.['application/json']?.schema;
          if (schema) body = { required: !!rb.required, validate: this.ajv.compile(adaptForRequests(schema, spec)) };
        }
        this.operations.push({
          template, method: method.toUpperCase(), operationId: op.operationId, regex: new RegExp(`^${pattern}$`), names,
          literalSegments, pathParams, queryParams, body,
        });
      }
    }
    // The most specific template wins (`/rulesets/phases/x/entrypoint` over `/rulesets/{id}/...`).
    this.operations.sort((a, b) => b.literalSegments - a.literalSegments);
  }

  /** Checks one request. `path` is below the API base (no `/client/v4`), without the query string. */
  check(method: string, path: string, query: URLSearchParams, body: string | undefined, contentType?: string): RequestCheck {
    const errors: string[] = [];
    const candidates = this.operations.filter(o => o.regex.test(path));
    if (!candidates.length) return { errors: [`no operation in the OpenAPI description matches ${method} ${path}`] };
    const op = candidates.find(o => o.method === method.toUpperCase());
    if (!op) return { errors: [`${path} matches ${candidates[0].template}, which has no ${method.toUpperCase()} operation`] };

    const m = op.regex.exec(path)!;
    const pathParams: Record<string, string> = {};
    op.names.forEach((n, i) => { pathParams[n] = decodeURIComponent(m[i + 1]); });
    for (const [name, value] of Object.entries(pathParams)) {
      const v = op.pathParams.get(name);
      if (!v) { errors.push(`path parameter ${name} is not declared`); continue; }
      if (!v({ v: value })) errors.push(`path parameter ${name}=${JSON.stringify(value)}: ${describe(v)}`);
    }

    const seen = new Set<string>();
    for (const [name, value] of query) {
      seen.add(name);
      const q = op.queryParams.get(name);
      if (!q) { errors.push(`query parameter ${name} is not declared for ${op.method} ${op.template}`); continue; }
      if (!q.validate({ v: value })) errors.push(`query parameter ${name}=${JSON.stringify(value)}: ${describe(q.validate)}`);
    }
    for (const [name, q] of op.queryParams) if (q.required && !seen.has(name)) errors.push(`required query parameter ${name} is missing`);

    const hasBody = body !== undefined && body.length > 0;
    if (op.body) {
      if (!hasBody) {
        if (op.body.required) errors.push('request body is required');
      } else {
        if (contentType && !/application\/json/i.test(contentType)) errors.push(`content-type ${contentType} is not application/json`);
        let parsed: unknown;
        try { parsed = JSON.parse(body!); } catch { errors.push('request body is not valid JSON'); }
        if (parsed !== undefined && !op.body.validate(parsed)) errors.push(`request body: ${describe(op.body.validate)}`);
      }
    } else if (hasBody) {
      errors.push(`${op.method} ${op.template} takes no request body`);
    }
    return { operation: { template: op.template, method: op.method, operationId: op.operationId, pathParams }, errors };
  }

  private deref(obj: Schema): Schema {
    let cur = obj;
    for (let i = 0; cur && typeof cur.$ref === 'string' && i < 20; i++) cur = resolvePointer(this.doc, cur.$ref);
    return cur;
  }
}

function describe(v: ValidateFunction): string {
  return (v.errors ?? []).slice(0, 6).map(e => `${e.instancePath || '(root)'} ${e.message}${e.params && 'allowedValues' in e.params ? ` ${JSON.stringify(e.params.allowedValues)}` : ''}`).join('; ');
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function resolvePointer(doc: Schema, ref: string): Schema {
  if (!ref.startsWith('#/')) throw new Error(`external $ref not supported: ${ref}`);
  return ref.slice(2).split('/').reduce<any>((o, k) => o?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
}

/**
 * OpenAPI 3.0 -> JSON Schema for validating requests:
 * - `nullable: true` admits null;
 * - `required` drops properties that are `readOnly` (directly or through their $ref);
 * - refs inside the components are rewritten to the document id.
 */
function adaptForRequests(schema: any, doc: Schema): any {
  const isReadOnly = (s: any): boolean => {
    if (!s || typeof s !== 'object') return false;
    if (s.readOnly === true) return true;
    if (typeof s.$ref === 'string' && s.$ref.startsWith('#/')) {
      const target = resolvePointer(doc, s.$ref);
      return target?.readOnly === true;
    }
    return false;
  };
  const walk = (s: any): any => {
    if (Array.isArray(s)) return s.map(walk);
    if (!s || typeof s !== 'object') return s;
    let out: Schema = {};
    for (const [k, v] of Object.entries(s)) {
      if (k === 'example' || k === 'examples' || k.startsWith('x-')) continue;
      out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `${DOC_ID}${v}` : walk(v);
    }
    if (Array.isArray(s.required) && s.properties && typeof s.properties === 'object') {
      out.required = s.required.filter((name: string) => !isReadOnly(s.properties[name]));
      if (!out.required.length) delete out.required;
    }
    if (out.nullable === true) {
      delete out.nullable;
      if (typeof out.type === 'string' && !out.$ref) {
        out.type = [out.type, 'null'];
        if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
      } else {
        out = { anyOf: [out, { type: 'null' }] };
      }
    } else if (out.nullable === false) {
      delete out.nullable;
    }
    return out;
  };
  return walk(schema);
}
