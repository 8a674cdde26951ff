import type { Model, ModelProvider, ModelRequest } from '@openai/agents-core';
import { OpenAIResponsesModel } from '@openai/agents-openai';
import type OpenAI from 'openai';
import { isReasoningModel } from '../responder/reasoning-models.js';

const ENCRYPTED_REASONING = 'reasoning.encrypted_content';

/**
 * The Responses API as this backend uses it: nothing is stored at OpenAI (`store: false`; the
 * thread in Postgres is the conversation's memory). A reasoning model's reasoning items then
 * exist only in the turn, so every request to one asks for them with their encrypted content,
 * which the SDK sends back with the item in the turn's next request (by id alone, the API answers
 * 404: "Items are not persisted when `store` is set to false"). A model that does not reason
 * refuses reasoning settings, so none reach it, whichever agent or run set them.
 */
export class StatelessResponsesModel extends OpenAIResponsesModel {
  protected override _buildResponsesCreateRequest(request: ModelRequest, stream: boolean) {
    const built = super._buildResponsesCreateRequest(request, stream);
    const data = built.requestData;
    data.store = false;
    const include: string[] = Array.isArray(data.include) ? data.include : [];
    if (isReasoningModel(this._model)) {
      if (!include.includes(ENCRYPTED_REASONING)) data.include = [...include, ENCRYPTED_REASONING];
    } else {
      delete data.reasoning;
      if (include.includes(ENCRYPTED_REASONING)) data.include = include.filter((value) => value !== ENCRYPTED_REASONING);
    }
    return built;
  }
}

/** Models by name, each a StatelessResponsesModel on one client. */
export class StatelessResponsesProvider implements ModelProvider {
  private readonly models = new Map<string, Model>();

  constructor(
    private readonly client: OpenAI,
    /** The model for an agent that names none. */
    private readonly defaultModel: string,
  ) {}

  getModel(name?: string): Model {
    const model = name || this.defaultModel;
    let found = this.models.get(model);
    if (!found) this.models.set(model, (found = new StatelessResponsesModel(this.client, model)));
    return found;
  }
}
